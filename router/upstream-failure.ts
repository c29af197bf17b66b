/**
 * What a failed upstream call means for the client: a timeout is a 504, a connection failure a
 * 502, each with an OpenAI-style JSON error naming the deployment and the replica, so the person
 * reading the application's logs knows which server to look at.
 */
import type { Replica } from "./replicas.ts";

/** A classified failure of one attempt. */
export interface UpstreamFailure {
  /** 504 for timeouts, 502 for everything else. */
  readonly status: 502 | 504;
  /** The `error.type` of the JSON answer. */
  readonly type: "upstream_timeout" | "upstream_error";
  /** True when the request never reached the replica, so another replica may take it. */
  readonly notConnected: boolean;
  /** A sentence naming the deployment, the replica and what happened. */
  readonly message: string;
}

/** Limits in force, quoted in timeout messages. */
export interface UpstreamTimeouts {
  readonly headersMs: number;
  readonly idleMs: number;
}

const NOT_CONNECTED = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_CONNECT_TIMEOUT",
]);
const TIMEOUTS = new Set(["UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "UND_ERR_CONNECT_TIMEOUT"]);

/** The error's code (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, ...), or "" when it has none. */
export function errorCode(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined) return code;
  // Happy-eyeballs connects report an AggregateError of the per-address failures.
  const first = (error as Partial<AggregateError>).errors?.[0] as NodeJS.ErrnoException | undefined;
  return first?.code ?? "";
}

function describe(code: string, error: Error, timeouts: UpstreamTimeouts): string {
  switch (code) {
    case "UND_ERR_HEADERS_TIMEOUT":
      return `sent no response headers within ${timeouts.headersMs} ms`;
    case "UND_ERR_BODY_TIMEOUT":
      return `sent nothing for ${timeouts.idleMs} ms in the middle of its answer`;
    case "UND_ERR_CONNECT_TIMEOUT":
      return "did not accept a connection in time";
    case "ECONNREFUSED":
      return "refused the connection (ECONNREFUSED): is the server up?";
    default:
      return `failed: ${error.message}${code ? ` (${code})` : ""}`;
  }
}

/** Classifies an attempt's error. */
export function classifyFailure(
  deployment: string,
  replica: Replica,
  error: Error,
  timeouts: UpstreamTimeouts,
): UpstreamFailure {
  const code = errorCode(error);
  const timedOut = TIMEOUTS.has(code);
  return {
    status: timedOut ? 504 : 502,
    type: timedOut ? "upstream_timeout" : "upstream_error",
    notConnected: NOT_CONNECTED.has(code),
    message: `upstream ${deployment} replica ${replica.id} ${describe(code, error, timeouts)}`,
  };
}

/** The OpenAI-style error body the client gets when the router answers in the upstream's place. */
export function upstreamErrorBody(status: number, type: string, message: string): string {
  return JSON.stringify({ error: { message, type, code: status } });
}
