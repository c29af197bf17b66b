/**
 * One proxied call: pick a replica, send the shaped request with undici, and stream the answer
 * back to the client byte for byte while timing it.
 *
 * The hot path is the response body: each chunk is scanned for token boundaries (sse.ts) and
 * written to the client as the same Buffer, never re-encoded. When the client cannot take more,
 * the upstream read is paused and resumed on `drain`, so a slow client holds back the engine
 * instead of filling the router's memory. A client that disconnects aborts the upstream request,
 * which frees the engine's slot.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import { Agent, type Dispatcher } from "undici";
import { forwardedRequestHeaders, forwardedResponseHeaders } from "./proxy-headers.ts";
import type { Replica, ReplicaSet } from "./replicas.ts";
import { type OpenAiRoute, routePaths } from "./shaping.ts";
import { readUsage, SseScanner, type TokenUsage } from "./sse.ts";
import { type Clock, monotonicSeconds, RequestTimer, type RequestTiming } from "./timing.ts";
import {
  classifyFailure,
  type UpstreamFailure,
  type UpstreamTimeouts,
  upstreamErrorBody,
} from "./upstream-failure.ts";
import type { ReplicaState } from "./warmth.ts";

/** What the call writes the answer to: an `http.ServerResponse`, or a sink of the same shape. */
export interface ResponseSink {
  readonly headersSent: boolean;
  /** True once the connection is gone (the client left before the call started). */
  readonly destroyed: boolean;
  readonly writableFinished: boolean;
  writeHead(statusCode: number, headers: OutgoingHttpHeaders): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: string): unknown;
  destroy(error?: Error): unknown;
  on(event: "close" | "drain", listener: () => void): unknown;
  off(event: "close" | "drain", listener: () => void): unknown;
}

/** How the call ended. */
export type CallOutcome =
  /** A 2xx answer, complete. */
  | "ok"
  /** The upstream answered with a non-2xx status, passed through as it was. */
  | "upstream_status"
  /** The client went away first; the upstream request was aborted. */
  | "client_gone"
  /** No answer in time (504 when nothing was sent yet, else the stream was cut). */
  | "timeout"
  /** The connection failed or broke (502 when nothing was sent yet, else the stream was cut). */
  | "upstream_error"
  /** The deployment has no known replica (503). */
  | "no_replica";

/** The result of {@link callUpstream}; it never throws for upstream or client failures. */
export interface UpstreamCallResult {
  readonly outcome: CallOutcome;
  /** Status line the client got (499 when it went away before the answer ended). */
  readonly status: number;
  /** Id of the replica that served the last attempt. */
  readonly replica: string | undefined;
  /** The replica's warm-up state when the request started on it. */
  readonly replicaState: ReplicaState | undefined;
  /** Replicas tried (a refused connection moves on to the next one). */
  readonly attempts: number;
  /** True when the answer was an SSE stream. */
  readonly streamed: boolean;
  readonly timing: RequestTiming;
  readonly usage: TokenUsage | undefined;
  /** Events in the stream that reported an error inside a 200 answer. */
  readonly streamErrors: number;
  /** What went wrong, for logs; undefined when the outcome is ok or upstream_status. */
  readonly error: string | undefined;
}

/** Options of {@link callUpstream}. */
export interface UpstreamCallOptions {
  readonly replicas: ReplicaSet;
  readonly route: OpenAiRoute;
  /** The shaped request body, serialised. */
  readonly body: Buffer;
  /** The client's request headers; hop-by-hop ones are dropped. */
  readonly headers: IncomingHttpHeaders;
  readonly response: ResponseSink;
  /** Keeps a conversation on one replica (rendezvous); absent: round robin. */
  readonly conversationKey?: string;
  /** Default: one shared {@link createUpstreamAgent} agent. */
  readonly dispatcher?: Dispatcher;
  /** Clock for timing, seconds. Default `performance.now()`. */
  readonly now?: Clock;
  /** When the request started (TTFT and e2e count from here). Default: now. */
  readonly startedAt?: number;
  /** Most time to wait for the response headers, ms. Default 300,000: a non-streamed answer arrives whole. */
  readonly headersTimeoutMs?: number;
  /** Most time between two body chunks, ms. Default 60,000. */
  readonly idleTimeoutMs?: number;
  /** Most replicas to try when connections are refused. Default 2. */
  readonly maxAttempts?: number;
}

/**
 * An undici agent for upstream calls: keep-alive connections per replica, connect timeout
 * `connectTimeoutMs` (default 5,000: a replica that does not accept in 5 s is treated as down).
 */
export function createUpstreamAgent(connectTimeoutMs = 5_000): Agent {
  return new Agent({ connect: { timeout: connectTimeoutMs }, keepAliveTimeout: 30_000 });
}

let sharedAgent: Agent | undefined;

function defaultAgent(): Agent {
  sharedAgent ??= createUpstreamAgent();
  return sharedAgent;
}

class ClientGone extends Error {
  constructor() {
    super("the client disconnected");
  }
}

interface AttemptEnd {
  readonly error: Error | undefined;
  readonly responded: boolean;
}

/** One dispatch to one replica, bridging undici's handler calls to the client response. */
class Attempt implements Dispatcher.DispatchHandler {
  controller: Dispatcher.DispatchController | undefined;
  responded = false;
  status = 0;
  scanner: SseScanner | undefined;
  private bodyParts: Buffer[] | undefined;
  private bodyBytes = 0;
  readonly ended: Promise<AttemptEnd>;
  private settle!: (end: AttemptEnd) => void;

  constructor(
    private readonly call: CallContext,
    private readonly timer: RequestTimer,
  ) {
    this.ended = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.call.clientGone) controller.abort(new ClientGone());
  }

  onResponseStart(_: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.responded = true;
    this.status = statusCode;
    const type = String(headers["content-type"] ?? "");
    if (type.startsWith("text/event-stream")) this.scanner = new SseScanner();
    else if (statusCode < 300 && type.includes("json")) this.bodyParts = [];
    this.call.response.writeHead(statusCode, forwardedResponseHeaders(headers));
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const scanner = this.scanner;
    if (scanner !== undefined) {
      const content = scanner.push(chunk);
      if (content > 0) this.timer.arrival(this.call.now(), content);
    } else if (this.bodyParts !== undefined) {
      this.bodyBytes += chunk.length;
      // Usage of a non-streamed answer is read at the end; a huge body is not worth holding.
      if (this.bodyBytes <= MAX_USAGE_BODY) this.bodyParts.push(chunk);
      else this.bodyParts = undefined;
    }
    if (!this.call.clientGone && !this.call.response.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.call.response.end();
    this.settle({ error: undefined, responded: true });
  }

  onResponseError(_: Dispatcher.DispatchController, error: Error): void {
    this.settle({ error, responded: this.responded });
  }

  /** Usage from the SSE stream, or from a complete JSON body. */
  usage(): TokenUsage | undefined {
    if (this.scanner !== undefined) return this.scanner.usage;
    if (this.bodyParts === undefined) return undefined;
    try {
      return readUsage((JSON.parse(Buffer.concat(this.bodyParts).toString()) as { usage?: unknown }).usage);
    } catch {
      return undefined;
    }
  }
}

const MAX_USAGE_BODY = 16 << 20;

interface CallContext {
  readonly response: ResponseSink;
  readonly now: Clock;
  clientGone: boolean;
}

/**
 * Proxies one request to a replica of the deployment and streams the answer to `response`.
 * Resolves when the exchange is over, with what happened; failures become answers, not throws:
 * no replica → 503, timeout → 504, connection error → 502 (JSON bodies naming the upstream) while
 * nothing was sent yet, else the client's stream is cut. A refused connection ejects the replica
 * for a few seconds and the next one (in rendezvous order) is tried, up to `maxAttempts`.
 */
export async function callUpstream(options: UpstreamCallOptions): Promise<UpstreamCallResult> {
  const now = options.now ?? monotonicSeconds;
  const timer = new RequestTimer(options.startedAt ?? now());
  const { replicas, response } = options;
  const timeouts: UpstreamTimeouts = {
    headersMs: options.headersTimeoutMs ?? 300_000,
    idleMs: options.idleTimeoutMs ?? 60_000,
  };
  const maxAttempts = options.maxAttempts ?? 2;
  const dispatcher = options.dispatcher ?? defaultAgent();
  const headers = forwardedRequestHeaders(options.headers);
  const path = routePaths[options.route];
  const call: CallContext = { response, now, clientGone: response.destroyed };
  let current: Attempt | undefined;
  const onClose = () => {
    if (response.writableFinished) return;
    call.clientGone = true;
    current?.controller?.abort(new ClientGone());
  };
  const onDrain = () => current?.controller?.resume();
  response.on("close", onClose);
  response.on("drain", onDrain);

  const tried = new Set<Replica>();
  const result = (
    outcome: CallOutcome,
    status: number,
    replica?: Replica,
    state?: ReplicaState,
    error?: string,
  ): UpstreamCallResult => {
    const usage = current?.usage();
    return {
      outcome,
      status,
      replica: replica?.id,
      replicaState: state,
      attempts: tried.size,
      streamed: current?.scanner !== undefined,
      timing: timer.finish(now(), usage?.completionTokens),
      usage,
      streamErrors: current?.scanner?.errors ?? 0,
      error,
    };
  };
  const answer = (status: number, type: string, message: string) => {
    if (!response.headersSent && !call.clientGone) {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(upstreamErrorBody(status, type, message));
    }
  };

  try {
    const refused: UpstreamFailure[] = [];
    let lastRefused: { replica: Replica; state: ReplicaState } | undefined;
    while (tried.size < maxAttempts && !call.clientGone) {
      const replica = replicas.pick(options.conversationKey, tried);
      if (replica === undefined) break;
      tried.add(replica);
      const state = replicas.begin(replica);
      const attempt = new Attempt(call, timer);
      current = attempt;
      dispatcher.dispatch(
        {
          origin: replica.origin,
          path: `${replica.basePath}${path}`,
          method: "POST",
          headers,
          body: options.body,
          headersTimeout: timeouts.headersMs,
          bodyTimeout: timeouts.idleMs,
        },
        attempt,
      );
      const { error, responded } = await attempt.ended;
      replicas.end(replica, responded);
      if (call.clientGone) return result("client_gone", 499, replica, state, "the client disconnected");
      if (error === undefined) {
        const ok = attempt.status >= 200 && attempt.status < 300;
        return result(ok ? "ok" : "upstream_status", attempt.status, replica, state);
      }
      const failure = classifyFailure(replicas.deployment, replica, error, timeouts);
      const outcome = failure.status === 504 ? "timeout" : "upstream_error";
      if (responded) {
        // Headers (and maybe tokens) already went out: all that is left is to cut the stream.
        response.destroy();
        return result(outcome, attempt.status, replica, state, failure.message);
      }
      if (failure.notConnected) {
        replicas.eject(replica);
        refused.push(failure);
        lastRefused = { replica, state };
        continue;
      }
      answer(failure.status, failure.type, failure.message);
      return result(outcome, failure.status, replica, state, failure.message);
    }
    if (call.clientGone) return result("client_gone", 499, undefined, undefined, "the client disconnected");
    const last = refused.at(-1);
    if (last === undefined) {
      const message = `deployment ${replicas.deployment} has no known replica: check its endpoints, or that its pods are ready`;
      answer(503, "no_upstream", message);
      return result("no_replica", 503, undefined, undefined, message);
    }
    // Every replica tried refused: name them all.
    const message = refused.map((failure) => failure.message).join("; ");
    answer(last.status, last.type, message);
    const outcome = last.status === 504 ? "timeout" : "upstream_error";
    return result(outcome, last.status, lastRefused?.replica, lastRefused?.state, message);
  } finally {
    response.off("close", onClose);
    response.off("drain", onDrain);
  }
}
