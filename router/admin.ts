/**
 * The admin port (DESIGN.md, "Router ports"; never exposed to the application):
 *
 * - `GET /metrics` (this router's prom-client registry), `GET /healthz` (the process answers),
 *   `GET /readyz` (a spec is loaded and a control replica is known; else 503 saying why): open.
 * - `POST /admin/pause`, `/admin/resume`, `/admin/rollback` (optional body `{ "reason": "..." }`),
 *   `GET /admin/state`, and `POST /alertmanager` (Alertmanager webhook, payload version 4): behind
 *   `Authorization: Bearer <token>`, compared in constant time. Without a configured token these
 *   are refused, with a message saying how to set one.
 *
 * The webhook maps each firing alert whose `experiment` label is this experiment through its
 * `action` label (DESIGN.md, "Guardrail actions"): `pause` pauses, `rollback` rolls back (latched),
 * `review` is logged only. Resolved alerts change nothing: a person resumes.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { z } from "zod";
import { parseJsonObject, readBody } from "./body.ts";
import type { RouterContext } from "./context.ts";
import type { StateAction } from "./experiment-state.ts";
import { HttpError, sendJson } from "./http-errors.ts";
import { type RouteHandler, routeTable } from "./route-table.ts";
import type { StateRecord } from "./store/types.ts";

/** Bodies of admin requests are a few hundred bytes; an alert batch a few hundred KiB at most. */
const MAX_ADMIN_BODY_BYTES = 1024 * 1024;

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/**
 * Checks the bearer token. Both sides are hashed first so the comparison is constant-time whatever
 * the lengths (`timingSafeEqual` needs equal lengths, and a length check would leak the length).
 */
function authorize(ctx: RouterContext, req: IncomingMessage): void {
  if (ctx.adminToken === undefined) {
    throw new HttpError(
      403,
      "admin_disabled",
      "the admin API is disabled because no admin token is configured: set LLM_AB_ADMIN_TOKEN or pass --admin-token-file <file> to llm-ab router",
    );
  }
  const header = req.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  const unauthorized = (message: string) =>
    new HttpError(401, "unauthorized", message, {
      headers: { "www-authenticate": 'Bearer realm="llm-ab admin"' },
    });
  if (match === null) {
    throw unauthorized("this admin endpoint needs the header Authorization: Bearer <admin token>");
  }
  if (!timingSafeEqual(digest(match[1] as string), digest(ctx.adminToken))) {
    throw unauthorized("the bearer token does not match the router's admin token");
  }
}

/** A route behind the token. */
function guarded(ctx: RouterContext, handler: RouteHandler): RouteHandler {
  return (req, res) => {
    authorize(ctx, req);
    return handler(req, res);
  };
}

const reasonBodySchema = z.strictObject({
  reason: z
    .string({ error: "must be a string" })
    .max(500, { error: "must be at most 500 characters" })
    .optional(),
});

/** The optional `{ reason }` of a pause / resume / rollback call. */
async function readReason(req: IncomingMessage): Promise<string | undefined> {
  const raw = await readBody(req, MAX_ADMIN_BODY_BYTES);
  if (raw.toString().trim() === "") return undefined;
  const parsed = reasonBodySchema.safeParse(parseJsonObject(raw));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown field(s) ${issue.keys.join(", ")} (the body may only have "reason")`
        : `${issue.path.join(".")}: ${issue.message}`,
    );
    throw new HttpError(400, "invalid_body", `invalid admin request body: ${problems.join("; ")}`);
  }
  return parsed.data.reason;
}

/** What `GET /admin/state` and the state-changing calls answer. */
function stateView(ctx: RouterContext, record: StateRecord) {
  const { rollout } = ctx.runtime.spec;
  return {
    experiment: ctx.experiment,
    state: record.state,
    version: record.version,
    changedAt: record.version === 0 ? null : new Date(record.changedAt).toISOString(),
    ...(record.reason === undefined ? {} : { reason: record.reason }),
    ...(record.actor === undefined ? {} : { actor: record.actor }),
    rollout,
  };
}

/** Applies an action to the shared state; a store that cannot take it is a 503 saying so. */
async function applyAction(
  ctx: RouterContext,
  action: StateAction,
  reason: string | undefined,
  actor: string,
): Promise<StateRecord> {
  try {
    const record = await ctx.state.apply(action, { ...(reason === undefined ? {} : { reason }), actor });
    ctx.logger.warn(
      { action, reason, actor, state: record.state },
      `${actor}: ${action} experiment ${ctx.experiment}`,
    );
    return record;
  } catch (error) {
    throw new HttpError(
      503,
      "state_unavailable",
      `could not ${action} experiment ${ctx.experiment}: ${error instanceof Error ? error.message : String(error)}`,
      { type: "server_error", cause: error },
    );
  }
}

function stateRoute(ctx: RouterContext, action: StateAction): RouteHandler {
  return async (req, res) => {
    const reason = await readReason(req);
    sendJson(
      res,
      stateView(ctx, await applyAction(ctx, action, reason ?? `${action} by admin API`, "admin")),
    );
  };
}

const alertSchema = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()).optional(),
  fingerprint: z.string().optional(),
});

const webhookSchema = z.object({
  version: z.string().optional(),
  status: z.string().optional(),
  alerts: z.array(alertSchema),
});

/** What the webhook did with one alert. */
interface AlertOutcome {
  readonly alert: string;
  readonly status: string;
  readonly action: string | undefined;
  readonly effect: "applied" | "logged" | "ignored";
  readonly why?: string;
}

/** Handles `POST /alertmanager`. */
async function alertmanager(ctx: RouterContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parsed = webhookSchema.safeParse(parseJsonObject(await readBody(req, MAX_ADMIN_BODY_BYTES)));
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join(".") || "body"}: ${issue.message}`,
    );
    throw new HttpError(
      400,
      "invalid_webhook",
      `not an Alertmanager webhook payload: ${problems.join("; ")}`,
    );
  }
  const payload = parsed.data;
  if (payload.version !== undefined && payload.version !== "4") {
    throw new HttpError(
      400,
      "invalid_webhook",
      `Alertmanager webhook payload version ${payload.version} is not supported: llm-ab reads version 4`,
    );
  }
  const outcomes: AlertOutcome[] = [];
  let strongest: StateAction | undefined;
  const reasons: string[] = [];
  for (const alert of payload.alerts) {
    const name = alert.labels.alertname ?? alert.fingerprint ?? "unnamed alert";
    const action = alert.labels.action;
    const base = { alert: name, status: alert.status, action };
    if (alert.labels.experiment !== ctx.experiment) {
      outcomes.push({
        ...base,
        effect: "ignored",
        why: `labels.experiment is ${JSON.stringify(alert.labels.experiment ?? null)}, not ${ctx.experiment}`,
      });
    } else if (alert.status !== "firing") {
      outcomes.push({ ...base, effect: "ignored", why: "resolved alerts do not resume: a person resumes" });
    } else if (action === "pause" || action === "rollback") {
      outcomes.push({ ...base, effect: "applied" });
      reasons.push(`${name} (${action})`);
      if (strongest !== "rollback") strongest = action;
    } else if (action === "review") {
      outcomes.push({ ...base, effect: "logged" });
      ctx.logger.warn(
        { alert: name, labels: alert.labels, annotations: alert.annotations },
        `guardrail review: ${name}`,
      );
    } else {
      outcomes.push({
        ...base,
        effect: "ignored",
        why: `labels.action must be pause, rollback or review, got ${JSON.stringify(action ?? null)}`,
      });
    }
  }
  const ignored = outcomes.filter((outcome) => outcome.effect === "ignored");
  if (ignored.length > 0)
    ctx.logger.info({ ignored }, "alertmanager: alerts without effect on this experiment");
  const record =
    strongest === undefined
      ? ctx.state.current()
      : await applyAction(ctx, strongest, `alertmanager: ${reasons.join(", ")}`, "alertmanager");
  sendJson(res, { ...stateView(ctx, record), alerts: outcomes });
}

/** The admin port's request handler. */
export function createAdminApp(ctx: RouterContext): RequestListener {
  return routeTable(
    {
      "/metrics": {
        GET: async (_req, res) => {
          const text = await ctx.metrics.metrics();
          res.writeHead(200, { "content-type": ctx.metrics.contentType });
          res.end(text);
        },
      },
      "/healthz": { GET: (_req, res) => sendJson(res, { status: "ok" }) },
      "/readyz": {
        GET: (_req, res) => {
          const reason = ctx.notReadyReason();
          if (reason !== undefined) throw new HttpError(503, "not_ready", `not ready: ${reason}`);
          sendJson(res, { status: "ready", experiment: ctx.experiment });
        },
      },
      "/admin/state": {
        GET: guarded(ctx, (_req, res) => sendJson(res, stateView(ctx, ctx.state.current()))),
      },
      "/admin/pause": { POST: guarded(ctx, stateRoute(ctx, "pause")) },
      "/admin/resume": { POST: guarded(ctx, stateRoute(ctx, "resume")) },
      "/admin/rollback": { POST: guarded(ctx, stateRoute(ctx, "rollback")) },
      "/alertmanager": { POST: guarded(ctx, (req, res) => alertmanager(ctx, req, res)) },
    },
    {
      portName: "the admin port",
      onServerError: (error, req) =>
        ctx.logger.error({ err: error.cause ?? error, method: req.method, url: req.url }, error.message),
    },
  );
}
