/**
 * One proxied turn on the proxy port: read the body, find the unit, decide the variant, shape the
 * request for it, call a replica of its deployment, then count it and write its exposure record.
 * In shadow mode the same request is also mirrored to the treatment, off the response path.
 *
 * Every turn of an assigned unit is one exposure record, whatever its status, so error rates can be
 * computed per unit; a request without a unit id is served by control, counted
 * (`llmab_unit_missing_total`) and not recorded.
 */
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Decision } from "./assigner.ts";
import { parseJsonObject, readBody } from "./body.ts";
import type { RouterContext } from "./context.ts";
import { murmur3 } from "./hash.ts";
import { requestCostUsd } from "./pricing.ts";
import type { ExposureRecord } from "./records.ts";
import type { SpecRuntime } from "./runtime.ts";
import { CaptureSink, TeeSink } from "./shadow.ts";
import { type OpenAiRoute, shapeRequest } from "./shaping.ts";
import { monotonicSeconds } from "./timing.ts";
import type { ResolvedUnit } from "./unit-id.ts";
import { callUpstream, type UpstreamCallResult } from "./upstream-call.ts";

/** Response headers naming the experiment and the variant that served the request. */
export const EXPERIMENT_HEADER = "x-llm-ab-experiment";
export const VARIANT_HEADER = "x-llm-ab-variant";
/** The id of this turn in the records; the app may send it back with outcomes. */
export const REQUEST_ID_HEADER = "x-llm-ab-request-id";
/** Keeps a conversation on one replica when the unit is not the conversation (e.g. user units). */
export const CONVERSATION_HEADER = "x-llm-ab-conversation";

/** The client's `x-request-id` when it sent a usable one, else a new UUID. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers["x-request-id"];
  if (typeof given === "string" && given.length > 0 && given.length <= 200) return given;
  return randomUUID();
}

function headerString(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Everything known about the turn once the upstream call is over. */
interface Turn {
  readonly route: OpenAiRoute;
  readonly requestId: string;
  readonly receivedAt: number;
  readonly unit: ResolvedUnit | undefined;
  readonly decision: Decision;
  readonly model: unknown;
  readonly deployment: string;
  readonly stream: boolean;
}

/**
 * Whether this request's exposure keeps its messages and answer text (`router.answerSamplePercent`):
 * a hash of the request id, so the share holds on every replica without coordination.
 */
export function answerSampled(percent: number, requestId: string): boolean {
  if (percent <= 0) return false;
  return murmur3(`answer-sample:${requestId}`) % 10_000 < percent * 100;
}

function exposureRecord(
  turn: Turn,
  unit: ResolvedUnit,
  status: number,
  result: UpstreamCallResult,
  costUsd: number | undefined,
  answer?: { readonly messages: unknown; readonly text: string },
): ExposureRecord {
  const { decision, requestId, route } = turn;
  const { timing, usage } = result;
  const outputTokens = usage?.completionTokens ?? timing.outputTokens;
  return {
    type: "exposure",
    t: new Date(turn.receivedAt).toISOString(),
    experiment: decision.experiment,
    unit: unit.id,
    unitSource: unit.source,
    variant: decision.variant,
    assigned: decision.assigned,
    state: decision.state,
    allocation: decision.allocationPercent,
    ...(decision.propensities === undefined
      ? {}
      : { propensities: { ...decision.propensities }, allocationVersion: decision.allocationVersion ?? 0 }),
    firstAssignedAt: new Date(decision.firstAssignedAt).toISOString(),
    bucket: decision.bucket ?? -1,
    requestId,
    route,
    ...(typeof turn.model === "string" ? { model: turn.model } : {}),
    deployment: turn.deployment,
    ...(result.replica === undefined ? {} : { replica: result.replica }),
    ...(result.replicaState === undefined ? {} : { replicaState: result.replicaState }),
    status,
    stream: turn.stream,
    ...(timing.ttft === undefined ? {} : { ttftSeconds: timing.ttft }),
    e2eSeconds: timing.e2e,
    ...(timing.tpot === undefined ? {} : { tpotSeconds: timing.tpot }),
    ...(usage === undefined ? {} : { inputTokens: usage.promptTokens }),
    ...(outputTokens === undefined ? {} : { outputTokens }),
    ...(costUsd === undefined ? {} : { costUsd }),
    ...(answer === undefined ? {} : { messages: answer.messages, text: answer.text }),
  };
}

/**
 * Sends the request to the mirrored treatment and writes a shadow record once both calls are over.
 * Started on the next turn of the event loop, after the client's call was dispatched.
 */
async function mirror(
  ctx: RouterContext,
  runtime: SpecRuntime,
  turn: Turn,
  body: Record<string, unknown>,
  headers: IncomingHttpHeaders,
  target: string,
  control: { readonly done: Promise<unknown>; readonly sink: TeeSink },
): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  const variant = runtime.variant(target);
  const shaped = shapeRequest(turn.route, body, variant);
  const sink = new CaptureSink();
  const conversationKey = headerString(headers, CONVERSATION_HEADER) ?? turn.unit?.id;
  const result = await callUpstream({
    replicas: runtime.replicasOf(variant),
    route: turn.route,
    body: Buffer.from(JSON.stringify(shaped.body)),
    headers,
    response: sink,
    dispatcher: ctx.agent,
    ...(conversationKey === undefined ? {} : { conversationKey }),
    ...ctx.upstream,
  });
  await control.done;
  const outputTokens = result.usage?.completionTokens ?? result.timing.outputTokens;
  ctx.shadowRecords.write({
    type: "shadow",
    t: new Date(turn.receivedAt).toISOString(),
    experiment: turn.decision.experiment,
    unit: turn.unit?.id ?? "",
    requestId: turn.requestId,
    variant: target,
    deployment: variant.deployment,
    status: result.status,
    ...(result.timing.ttft === undefined ? {} : { ttftSeconds: result.timing.ttft }),
    e2eSeconds: result.timing.e2e,
    ...(outputTokens === undefined ? {} : { outputTokens }),
    text: sink.text(),
    controlText: control.sink.text(),
  });
  if (result.error !== undefined) {
    ctx.logger.warn(
      { requestId: turn.requestId, variant: target, error: result.error },
      "shadow call failed",
    );
  }
}

/** Handles `POST /v1/chat/completions` or `POST /v1/completions`. */
export async function proxyTurn(
  ctx: RouterContext,
  route: OpenAiRoute,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const startedAt = monotonicSeconds();
  const receivedAt = Date.now();
  const body = parseJsonObject(await readBody(req, ctx.maxBodyBytes));
  const runtime = ctx.runtime;
  const requestId = requestIdOf(req.headers);
  const unit = runtime.unitOf(req.headers, body, requestId);
  const decision = await runtime.assigner.decide(unit?.id, receivedAt);
  const variant = runtime.variant(decision.variant);
  const shaped = shapeRequest(route, body, variant);
  res.setHeader(EXPERIMENT_HEADER, decision.experiment);
  res.setHeader(VARIANT_HEADER, decision.variant);
  res.setHeader(REQUEST_ID_HEADER, requestId);
  if (ctx.draining) res.setHeader("connection", "close");
  const turn: Turn = {
    route,
    requestId,
    receivedAt,
    unit,
    decision,
    model: shaped.body.model,
    deployment: variant.deployment,
    stream: shaped.stream,
  };
  const conversationKey =
    headerString(req.headers, CONVERSATION_HEADER) ?? (decision.exposure ? unit?.id : undefined);
  const keepAnswer = decision.exposure && answerSampled(runtime.spec.router.answerSamplePercent, requestId);
  // The tee keeps a copy of what the client is sent: for the shadow comparison, or a sampled answer.
  const tee = decision.mirrorTo === undefined && !keepAnswer ? undefined : new TeeSink(res);
  const call = callUpstream({
    replicas: runtime.replicasOf(variant),
    route,
    body: Buffer.from(JSON.stringify(shaped.body)),
    headers: req.headers,
    response: tee ?? res,
    dispatcher: ctx.agent,
    startedAt,
    ...(conversationKey === undefined ? {} : { conversationKey }),
    ...ctx.upstream,
  });
  if (tee !== undefined && decision.mirrorTo !== undefined) {
    const mirrored = mirror(ctx, runtime, turn, body, req.headers, decision.mirrorTo, {
      done: call,
      sink: tee,
    });
    void ctx.inFlight.track(
      mirrored.catch((error: unknown) => ctx.logger.error({ err: error, requestId }, "shadow mirror failed")),
    );
  }
  const result = await call;
  const costUsd = requestCostUsd(runtime.spec.deployments[variant.deployment]?.price, result.usage);
  ctx.metrics.observeExchange(
    { experiment: decision.experiment, variant: decision.variant, replicaState: result.replicaState },
    {
      status: result.status,
      timing: result.timing,
      ...(result.usage === undefined ? {} : { usage: result.usage }),
      ...(costUsd === undefined ? {} : { costUsd }),
    },
  );
  if (decision.exposure && unit !== undefined) {
    // The records count what the client got: 0 when it left before any status was sent.
    const status = result.outcome === "client_gone" ? (res.headersSent ? res.statusCode : 0) : result.status;
    const answer =
      keepAnswer && tee !== undefined
        ? { messages: route === "chat" ? body.messages : body.prompt, text: tee.text() }
        : undefined;
    ctx.records.write(exposureRecord(turn, unit, status, result, costUsd, answer));
  }
  if (result.error !== undefined && result.outcome !== "client_gone") {
    ctx.logger.warn(
      {
        requestId,
        variant: decision.variant,
        outcome: result.outcome,
        status: result.status,
        error: result.error,
      },
      "upstream call failed",
    );
  }
}
