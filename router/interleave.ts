/**
 * Team-draft interleaving on the proxy port: compare two rankers (retrieval for RAG, search) inside
 * one result list per query instead of across traffic groups (stats/interleaving.ts says why it
 * needs far fewer queries than an A/B split).
 *
 * - `POST /v1/interleave` `{ queryId?, unit?, control, treatment, treatmentVariant?, length?, seed? }`:
 *   the application runs both rankers itself and sends their result lists, best first, as ids or
 *   as objects with a string `id` (other fields are echoed back untouched). The router draws a seed
 *   when none is given, interleaves with `teamDraft(control, treatment, seededRandom(seed))`, writes
 *   an `interleaving` record (seed and every item's team, so the list replays) and answers
 *   `{ experiment, queryId, seed, control, treatment, interleaved: true, items: [{ id, team, ... }] }`,
 *   `team` being the variant name of the ranker that placed the item. Team A is the spec's control,
 *   team B the treatment named by `treatmentVariant` (needed only when the spec has several).
 * - `POST /v1/interleave/feedback` `{ queryId, items }`: the ids of the items of that list the user
 *   clicked or used, written as an `interleaving_feedback` record. Post once per query or once per
 *   click: the analysis takes the union of a query's feedback.
 *
 * `seed` in the request is for replaying a logged list only: the same seed on every query flips the
 * same coins every time, so one ranker always picks first in the same slots and position bias poses
 * as a preference (the analysis counts lists that share a seed and then draws no conclusion).
 * Interleaving shows the treatment's results on every query whatever the rollout percent; pause
 * the experiment to stop it.
 *
 * The router keeps no per-query state: it neither remembers the lists it served nor checks feedback
 * against them, so any replica can take either call and nothing grows with traffic. The event log
 * joins them by queryId (`llm-ab interleaving analyze`, analysis/interleaving-log.ts), which also
 * means a queryId must name one list: omit it and the router generates one (a UUID), or send a
 * fresh one per list, including on retries.
 *
 * While the experiment is paused or rolled back, and in rollout mode shadow, users must not see the
 * treatment (DESIGN.md, "Guardrail actions"): the answer is the control list alone, every item on
 * the control team, with `interleaved: false` and the reason, and no record is written (an
 * all-control list would credit every click to control). Feedback for such a query is counted by
 * the analysis as feedback for an unknown query.
 *
 * Counters: `llmab_interleaving_queries_total{experiment}` (lists interleaved and recorded) and
 * `llmab_interleaving_feedback_total{experiment}` (feedback posts recorded).
 */
import { randomInt, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, type Registry } from "prom-client";
import { seededRandom, teamDraft } from "../stats/interleaving.ts";
import type { Arms } from "./assignment.ts";
import { parseJsonObject, readBody } from "./body.ts";
import type { RouterContext } from "./context.ts";
import { EXPERIMENT_HEADER } from "./exchange.ts";
import { HttpError, sendJson } from "./http-errors.ts";
import {
  MAX_SEED,
  parseFeedbackRequest,
  parseInterleaveRequest,
  quoted,
  type RankedItem,
} from "./interleave-request.ts";
import type { RouteHandler } from "./route-table.ts";

/** The treatment whose ranker is team B: the named one, else the only one. */
export function treatmentOf(arms: Arms, named: string | undefined): string {
  const list = arms.treatments.join(", ");
  if (named === undefined) {
    const [only, ...others] = arms.treatments;
    if (only !== undefined && others.length === 0) return only;
    throw new HttpError(
      400,
      "treatment_variant_missing",
      `invalid interleave request: treatmentVariant: is required when the experiment has several treatments; name the one whose ranker produced "treatment" (one of ${list})`,
    );
  }
  if (arms.treatments.includes(named)) return named;
  throw new HttpError(
    400,
    "unknown_variant",
    `invalid interleave request: treatmentVariant: ${quoted(named)} is not a treatment of this experiment (treatments: ${list}; control: ${arms.control})`,
  );
}

/** Why the treatment's results must not be shown now, or undefined when they may. */
function withheldReason(ctx: RouterContext): string | undefined {
  const { state } = ctx.state.current();
  if (state !== "active") {
    return `the experiment is ${state.replace("_", " ")}: the treatment ranker's results are withheld until it is resumed`;
  }
  if (ctx.runtime.spec.rollout.mode === "shadow") {
    return "rollout mode shadow shows users control only: switch to ab or canary to interleave";
  }
  return undefined;
}

/** The answer's item: its id and team first, then the caller's own fields. */
const answerItem = (item: RankedItem, team: string) => ({ id: item.id, team, ...item.fields });

/** The interleaving counters, created once per registry. */
interface InterleavingCounters {
  readonly queries: Counter<"experiment">;
  readonly feedback: Counter<"experiment">;
}

const countersByRegistry = new WeakMap<Registry, InterleavingCounters>();

/** The interleaving counters of `registry`, registering them on first use. */
export function interleavingCounters(registry: Registry): InterleavingCounters {
  let counters = countersByRegistry.get(registry);
  if (counters === undefined) {
    const registers = [registry];
    counters = {
      queries: new Counter({
        name: "llmab_interleaving_queries_total",
        help: "Interleaved result lists served by POST /v1/interleave and written to the event log.",
        labelNames: ["experiment"] as const,
        registers,
      }),
      feedback: new Counter({
        name: "llmab_interleaving_feedback_total",
        help: "Click or use reports received on POST /v1/interleave/feedback.",
        labelNames: ["experiment"] as const,
        registers,
      }),
    };
    countersByRegistry.set(registry, counters);
  }
  return counters;
}

/** Handles `POST /v1/interleave`. */
async function postInterleave(
  ctx: RouterContext,
  counters: InterleavingCounters,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const request = parseInterleaveRequest(parseJsonObject(await readBody(req, ctx.maxBodyBytes)));
  const { arms } = ctx.runtime;
  const control = arms.control;
  const treatment = treatmentOf(arms, request.treatmentVariant);
  const queryId = request.queryId ?? randomUUID();
  res.setHeader(EXPERIMENT_HEADER, ctx.experiment);
  const withheld = withheldReason(ctx);
  if (withheld !== undefined) {
    sendJson(res, {
      experiment: ctx.experiment,
      queryId,
      control,
      treatment,
      interleaved: false,
      reason: withheld,
      items: request.control.slice(0, request.length).map((item) => answerItem(item, control)),
    });
    return;
  }
  // mt19937 takes seeds from 1 to 2³² − 1: drawn here, recorded, so the list replays.
  const seed = request.seed ?? randomInt(1, MAX_SEED + 1);
  const list = teamDraft(request.control, request.treatment, seededRandom(seed), {
    key: (item) => item.id,
    ...(request.length === undefined ? {} : { length: request.length }),
  });
  const teamName = (team: "A" | "B") => (team === "A" ? control : treatment);
  ctx.records.write({
    type: "interleaving",
    t: new Date().toISOString(),
    experiment: ctx.experiment,
    queryId,
    seed,
    ...(request.unit === undefined ? {} : { unit: request.unit }),
    control,
    treatment,
    items: list.map(({ item, team }) => ({ id: item.id, team: teamName(team) })),
  });
  counters.queries.inc({ experiment: ctx.experiment });
  sendJson(res, {
    experiment: ctx.experiment,
    queryId,
    seed,
    control,
    treatment,
    interleaved: true,
    items: list.map(({ item, team }) => answerItem(item, teamName(team))),
  });
}

/** Handles `POST /v1/interleave/feedback`. */
async function postFeedback(
  ctx: RouterContext,
  counters: InterleavingCounters,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { queryId, items } = parseFeedbackRequest(parseJsonObject(await readBody(req, ctx.maxBodyBytes)));
  ctx.records.write({
    type: "interleaving_feedback",
    t: new Date().toISOString(),
    experiment: ctx.experiment,
    queryId,
    items: [...items],
  });
  counters.feedback.inc({ experiment: ctx.experiment });
  res.setHeader(EXPERIMENT_HEADER, ctx.experiment);
  sendJson(res, { experiment: ctx.experiment, queryId, items });
}

/**
 * The two interleaving routes for the proxy port's route table. Registers the counters at once,
 * at zero, so dashboards see the series before the first query.
 */
export function interleaveRoutes(ctx: RouterContext): Record<string, { POST: RouteHandler }> {
  const counters = interleavingCounters(ctx.metrics.registry);
  counters.queries.inc({ experiment: ctx.experiment }, 0);
  counters.feedback.inc({ experiment: ctx.experiment }, 0);
  return {
    "/v1/interleave": { POST: (req, res) => ctx.inFlight.track(postInterleave(ctx, counters, req, res)) },
    "/v1/interleave/feedback": {
      POST: (req, res) => ctx.inFlight.track(postFeedback(ctx, counters, req, res)),
    },
  };
}
