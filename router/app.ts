/**
 * The proxy port (DESIGN.md, "Router ports"): what the application talks to instead of the engine.
 *
 * - `POST /v1/chat/completions`, `POST /v1/completions`: OpenAI-compatible, streamed or not,
 *   proxied to the variant of the request's unit (exchange.ts).
 * - `POST /v1/outcomes`: an outcome of a unit, `{ unit?, metric, value, requestId? }` (outcomes.ts),
 *   counted under the unit's assigned variant and written to the event log.
 * - `POST /v1/interleave`: two rankers' result lists for one query, `{ queryId?, unit?, control,
 *   treatment, treatmentVariant?, length?, seed? }`, answered with one team-draft interleaved list
 *   whose items name the variant that placed them, and written to the event log (interleave.ts).
 * - `POST /v1/interleave/feedback`: the items of an interleaved list a user clicked or used,
 *   `{ queryId, items }`, written to the event log; the analysis joins it to the list by queryId.
 * - `GET /v1/models`: the model names the variants send, in OpenAI's list shape.
 *
 * Answers carry `x-llm-ab-experiment`, and `x-llm-ab-variant` where one variant answers (not the
 * interleaving routes, whose lists hold both). With rollout.mode bandit an outcome of the reward
 * metric also feeds the bandit, and its answer and record say how it matched (`bandit`). Errors are OpenAI-style JSON naming
 * the problem (http-errors.ts); unknown routes list the routes, wrong methods set `Allow`.
 * `createApp` builds the handler; only main.ts listens.
 */
import type { IncomingHttpHeaders, IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { parseJsonObject, readBody } from "./body.ts";
import type { RouterContext } from "./context.ts";
import { EXPERIMENT_HEADER, proxyTurn, VARIANT_HEADER } from "./exchange.ts";
import { HttpError, sendJson } from "./http-errors.ts";
import { interleaveRoutes } from "./interleave.ts";
import { type OutcomeReport, parseOutcome } from "./outcomes.ts";
import { routeTable } from "./route-table.ts";
import type { SpecRuntime } from "./runtime.ts";

/**
 * The unit an outcome is about: the body's `unit`; else, for `request` units, the turn's request
 * id; else the unit sources' headers (the outcome body has no `user` or `metadata` to read).
 */
function outcomeUnit(
  runtime: SpecRuntime,
  report: OutcomeReport,
  headers: IncomingHttpHeaders,
): string | undefined {
  if (report.unit !== undefined) return report.unit;
  if (runtime.spec.unit === "request") return report.requestId;
  return runtime.unitOf(headers, undefined, "")?.id;
}

/** Handles `POST /v1/outcomes`. */
async function postOutcome(ctx: RouterContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = parseJsonObject(await readBody(req, ctx.maxBodyBytes));
  const runtime = ctx.runtime;
  const report = parseOutcome(body, runtime.outcomes);
  const unit = outcomeUnit(runtime, report, req.headers);
  if (unit === undefined) {
    const sources =
      runtime.spec.unit === "request"
        ? "the request id of the turn (requestId, from the x-llm-ab-request-id header)"
        : runtime.spec.router.unitSources
            .map((source) => ("header" in source ? `header ${source.header}` : `body ${source.body}`))
            .join(", ");
    throw new HttpError(
      400,
      "unit_missing",
      `the outcome names no unit: put "unit" in the body, or send it the way requests do (${sources})`,
    );
  }
  const { variant, source, firstAssignedAt } = await runtime.assignedVariant(unit);
  ctx.metrics.observeOutcome(ctx.experiment, variant, report.metric, report.value);
  // Mode bandit: the reward metric also feeds the allocation, when it matches its unit's assignment.
  const bandit =
    runtime.bandit !== undefined && report.metric === runtime.bandit.policy.reward
      ? await runtime.bandit.observe({
          unit,
          arm: source === "stored" ? variant : undefined,
          firstAssignedAt,
          value: report.value,
          state: ctx.state.current(),
        })
      : undefined;
  ctx.records.write({
    type: "outcome",
    t: new Date().toISOString(),
    experiment: ctx.experiment,
    unit,
    variant,
    metric: report.metric,
    value: report.value,
    ...(report.requestId === undefined ? {} : { requestId: report.requestId }),
    ...(bandit === undefined ? {} : { bandit }),
  });
  res.setHeader(EXPERIMENT_HEADER, ctx.experiment);
  res.setHeader(VARIANT_HEADER, variant);
  sendJson(res, {
    experiment: ctx.experiment,
    unit,
    variant,
    assignment: source,
    metric: report.metric,
    value: report.value,
    ...(bandit === undefined ? {} : { bandit }),
  });
}

/** Handles `GET /v1/models`: the variants' model names, as an OpenAI model list. */
function listModels(ctx: RouterContext, res: ServerResponse): void {
  const created = Math.floor(Date.now() / 1000);
  res.setHeader(EXPERIMENT_HEADER, ctx.experiment);
  sendJson(res, {
    object: "list",
    data: ctx.runtime.models.map((id) => ({ id, object: "model", created, owned_by: "llm-ab" })),
  });
}

/** The proxy port's request handler. */
export function createApp(ctx: RouterContext): RequestListener {
  return routeTable(
    {
      "/v1/chat/completions": { POST: (req, res) => ctx.inFlight.track(proxyTurn(ctx, "chat", req, res)) },
      "/v1/completions": { POST: (req, res) => ctx.inFlight.track(proxyTurn(ctx, "completions", req, res)) },
      "/v1/outcomes": { POST: (req, res) => ctx.inFlight.track(postOutcome(ctx, req, res)) },
      ...interleaveRoutes(ctx),
      "/v1/models": { GET: (_req, res) => listModels(ctx, res) },
    },
    {
      portName: "the proxy port",
      onServerError: (error, req) =>
        ctx.logger.error({ err: error.cause ?? error, method: req.method, url: req.url }, error.message),
    },
  );
}
