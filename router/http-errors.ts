/**
 * The one error type the router's handlers throw, and the JSON body every error answer carries.
 *
 * The body is OpenAI's error shape, `{ "error": { "message", "type", "code" } }`, so an application
 * talking to the router through an OpenAI SDK surfaces our errors the way it surfaces the engine's:
 * `message` is a sentence naming what was wrong and what to do, `type` the family
 * (`invalid_request_error`, `not_found_error`, ...) and `code` a stable machine-readable name
 * (`invalid_json`, `body_too_large`, ...). Upstream failures answered by `callUpstream` use the same
 * shape with the HTTP status as `code` (upstream-failure.ts).
 */
import type { ServerResponse } from "node:http";

/** Families of errors, as OpenAI names them where it has a name. */
export type HttpErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "not_ready"
  | "server_error";

/** Options of an {@link HttpError}. */
export interface HttpErrorOptions {
  /** Default by status: 400 invalid_request_error, 401 authentication_error, 403 permission_error, 404 not_found_error, 503 not_ready, else server_error. */
  readonly type?: HttpErrorType;
  /** Extra response headers, e.g. `Allow` on a 405 or `WWW-Authenticate` on a 401. */
  readonly headers?: Readonly<Record<string, string>>;
  /** What caused it (kept for logs, never sent to the client). */
  readonly cause?: unknown;
}

function defaultType(status: number): HttpErrorType {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 503:
      return "not_ready";
    default:
      return status < 500 ? "invalid_request_error" : "server_error";
  }
}

/** An answer the router gives instead of a result: a status, a sentence, and a code. */
export class HttpError extends Error {
  readonly status: number;
  readonly type: HttpErrorType;
  /** Stable, machine-readable name of the problem, e.g. `invalid_json`. */
  readonly code: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HttpError";
    this.status = status;
    this.code = code;
    this.type = options.type ?? defaultType(status);
    this.headers = options.headers ?? {};
  }

  /** The JSON body: `{ "error": { "message", "type", "code" } }`. */
  body(): string {
    return errorBody(this.message, this.type, this.code);
  }
}

/** An OpenAI-style error body. */
export function errorBody(message: string, type: string, code: string): string {
  return JSON.stringify({ error: { message, type, code } });
}

/**
 * The HttpError for anything a handler threw: itself when it is one, else a 500 that says an
 * internal error happened (the detail goes to the log through `cause`, not to the client).
 */
export function asHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  return new HttpError(500, "internal_error", "the router failed to handle the request; see its log", {
    cause: error,
  });
}

/**
 * Answers `res` with the error, unless an answer has already started (then the connection is cut,
 * since a half-sent body cannot be turned into an error any more).
 */
export function sendError(res: ServerResponse, error: HttpError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = error.body();
  res.writeHead(error.status, {
    ...error.headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** Answers `res` with a JSON value and status (default 200). */
export function sendJson(res: ServerResponse, value: unknown, status = 200): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}
