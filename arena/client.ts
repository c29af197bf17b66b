/**
 * The arena's HTTP client for OpenAI-compatible endpoints: one JSON POST with a timeout, retried
 * on what a later attempt can fix (a refused or reset connection, a timeout, 429, 5xx) and never on
 * what it cannot (any other 4xx: the request itself is wrong). Backoff is exponential with full
 * jitter, so many runs hitting one overloaded server do not retry in lockstep; a `Retry-After`
 * from the server wins over the computed delay.
 *
 * Also the concurrency limiter every arena call goes through, so candidates, judges and
 * embeddings share one budget of connections to a server.
 */
import { Agent, type Dispatcher, request } from "undici";

/** Options of {@link postJson}; every field has a default. */
export interface PostOptions {
  /** Most time for one attempt (connect, headers and body), ms. Default 120,000. */
  readonly timeoutMs?: number;
  /** Retries after the first attempt. Default 4. */
  readonly retries?: number;
  /** Aborts the call (and any backoff wait); an aborted call is never retried. */
  readonly signal?: AbortSignal;
  /** First backoff ceiling, ms; it doubles per retry. Default 500. */
  readonly backoffBaseMs?: number;
  /** Largest backoff ceiling, ms. Default 30,000. */
  readonly backoffMaxMs?: number;
  /** Longest `Retry-After` honoured, ms; a longer one fails the call instead of stalling the run. Default 120,000. */
  readonly maxRetryAfterMs?: number;
  /** Extra request headers, e.g. `authorization`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Default: one shared keep-alive agent. */
  readonly dispatcher?: Dispatcher;
  /** Waits between attempts (tests inject one that records delays). Default: a timer that the signal cancels. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Uniform [0, 1) for jitter. Default `Math.random`. */
  readonly random?: () => number;
}

/** A successful (2xx) call. */
export interface PostResult {
  readonly status: number;
  readonly json: unknown;
  /** Attempts made, 1 when the first succeeded. */
  readonly attempts: number;
  /** Time the successful attempt took, ms. */
  readonly latencyMs: number;
  /** ISO time the successful attempt started. */
  readonly at: string;
}

/** A call that failed for good: the URL, the last status (absent: no HTTP answer) and the server's message. */
export class HttpCallError extends Error {
  readonly url: string;
  readonly status: number | undefined;
  readonly attempts: number;
  /** The error message from the response body, or the connection error. */
  readonly detail: string;

  constructor(url: string, status: number | undefined, attempts: number, detail: string, cause?: unknown) {
    const what = status === undefined ? "no answer" : `HTTP ${status}`;
    const tries = attempts === 1 ? "1 attempt" : `${attempts} attempts`;
    super(`POST ${url} failed after ${tries}: ${what}: ${detail}`, cause === undefined ? {} : { cause });
    this.name = "HttpCallError";
    this.url = url;
    this.status = status;
    this.attempts = attempts;
    this.detail = detail;
  }
}

let sharedAgent: Agent | undefined;

function defaultAgent(): Agent {
  sharedAgent ??= new Agent({ connect: { timeout: 10_000 }, keepAliveTimeout: 30_000 });
  return sharedAgent;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("the call was aborted");
}

function timerSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** True for statuses a later attempt may not get: rate limiting and server-side failures. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** `Retry-After` in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Full jitter: uniform in [0, min(max, base · 2^retry)). */
export function backoffMs(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  return random() * Math.min(maxMs, baseMs * 2 ** retry);
}

/** The error message of an OpenAI-style error body (`{error: {message}}`), else the start of the text. */
export function errorMessageOf(json: unknown, text: string): string {
  if (typeof json === "object" && json !== null) {
    const { error, message } = json as { error?: unknown; message?: unknown };
    if (typeof error === "string") return error;
    if (typeof error === "object" && error !== null) {
      const inner = (error as { message?: unknown }).message;
      if (typeof inner === "string") return inner;
    }
    if (typeof message === "string") return message;
  }
  const trimmed = text.trim();
  if (trimmed === "") return "(empty body)";
  return trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

type Attempt =
  | { readonly kind: "ok"; readonly status: number; readonly json: unknown }
  | {
      readonly kind: "status";
      readonly status: number;
      readonly detail: string;
      readonly retryAfterMs?: number;
    }
  | {
      readonly kind: "network";
      readonly detail: string;
      readonly cause: unknown;
      /** A malformed URL or request: no retry can fix it. */
      readonly permanent: boolean;
    };

const PERMANENT_CODES = new Set(["ERR_INVALID_URL", "UND_ERR_INVALID_ARG"]);

async function attempt(
  url: string,
  payload: string,
  options: PostOptions,
  signal: AbortSignal,
): Promise<Attempt> {
  try {
    const response = await request(url, {
      method: "POST",
      body: payload,
      headers: { "content-type": "application/json", accept: "application/json", ...options.headers },
      dispatcher: options.dispatcher ?? defaultAgent(),
      signal,
    });
    const text = await response.body.text();
    const json = parseJson(text);
    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      if (json === undefined) {
        // A 2xx that is not JSON is a misconfigured endpoint (a proxy's HTML page), not a blip.
        return {
          kind: "status",
          status,
          detail: `the answer is not JSON: ${errorMessageOf(undefined, text)}`,
        };
      }
      return { kind: "ok", status, json };
    }
    const retryAfterMs = parseRetryAfter(response.headers["retry-after"]);
    return {
      kind: "status",
      status,
      detail: errorMessageOf(json, text),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    return {
      kind: "network",
      detail: typeof code === "string" ? `${code}: ${message}` : message,
      cause: error,
      permanent: typeof code === "string" && PERMANENT_CODES.has(code),
    };
  }
}

/**
 * POSTs `body` as JSON to `url` and returns the parsed 2xx answer. Retries connection errors,
 * timeouts, 429 and 5xx up to `retries` times; throws {@link HttpCallError} naming the URL, the
 * last status and the server's error message when the call fails for good (at once for other 4xx).
 * An abort through `signal` rethrows the abort reason without retrying.
 */
export async function postJson(url: string, body: unknown, options: PostOptions = {}): Promise<PostResult> {
  const retries = options.retries ?? 4;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const sleep = options.sleep ?? timerSleep;
  const random = options.random ?? Math.random;
  const payload = JSON.stringify(body);
  for (let attempts = 1; ; attempts++) {
    if (options.signal?.aborted) throw abortError(options.signal);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const startedAt = new Date();
    const started = performance.now();
    const result = await attempt(url, payload, options, signal);
    const latencyMs = performance.now() - started;
    if (result.kind === "ok") {
      return { status: result.status, json: result.json, attempts, latencyMs, at: startedAt.toISOString() };
    }
    if (options.signal?.aborted) throw abortError(options.signal);
    const status = result.kind === "status" ? result.status : undefined;
    const detail =
      result.kind === "network" && timeout.aborted ? `no answer within ${timeoutMs} ms` : result.detail;
    const cause = result.kind === "network" ? result.cause : undefined;
    const retryable =
      result.kind === "network" ? !result.permanent : status !== undefined && isRetryableStatus(status);
    if (!retryable || attempts > retries) throw new HttpCallError(url, status, attempts, detail, cause);
    const retryAfterMs = result.kind === "status" ? result.retryAfterMs : undefined;
    const maxRetryAfterMs = options.maxRetryAfterMs ?? 120_000;
    if (retryAfterMs !== undefined && retryAfterMs > maxRetryAfterMs) {
      throw new HttpCallError(
        url,
        status,
        attempts,
        `${detail} (the server asks to retry after ${Math.round(retryAfterMs / 1000)} s, more than the ${maxRetryAfterMs / 1000} s allowed)`,
      );
    }
    const delay =
      retryAfterMs ??
      backoffMs(attempts - 1, options.backoffBaseMs ?? 500, options.backoffMaxMs ?? 30_000, random);
    await sleep(delay, options.signal);
  }
}

/**
 * `path` (e.g. `/v1/chat/completions`) under a base URL. A base that already ends in `/v1` (as
 * OpenAI's own `https://api.openai.com/v1` does) does not get a second one.
 */
export function endpointUrl(base: string, path: string): string {
  const trimmed = base.replace(/\/+$/, "");
  return trimmed.endsWith("/v1") && path.startsWith("/v1/")
    ? `${trimmed}${path.slice(3)}`
    : `${trimmed}${path}`;
}

/** Runs `task` when a slot is free; at most `n` tasks run at once, the rest wait in arrival order. */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/** A limiter of `n` concurrent tasks (a counting semaphore). */
export function limit(n: number): Limiter {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`concurrency must be an integer ≥ 1, got ${n}`);
  let active = 0;
  const waiting: (() => void)[] = [];
  // A finished task hands its slot straight to the next waiter, so a task arriving in between
  // cannot take it too and exceed n.
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else active--;
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < n) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      release();
    }
  };
}
