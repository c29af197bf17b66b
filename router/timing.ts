/**
 * Client-side latency of one proxied request, as the application experiences it: time to first
 * token (TTFT), every inter-token gap (ITL), end-to-end time (e2e) and time per output token
 * (TPOT = (e2e − TTFT) / (output tokens − 1)). Measured in the router rather than read from the
 * engine because the engine does not see queueing in front of it, the network, or the router.
 *
 * Times are seconds on one monotonic clock, injected so tests need no sleeping.
 */

/** A monotonic clock in seconds (sub-millisecond resolution). */
export type Clock = () => number;

/**
 * The default clock: `performance.now()` in seconds. Monotonic (wall-clock steps from NTP cannot
 * make a latency negative) and sub-millisecond, which ITL of a few milliseconds needs.
 */
export const monotonicSeconds: Clock = () => performance.now() / 1000;

/** Where the output token count came from. */
export type TokenCountSource = "usage" | "events";

/** The latencies of one finished request. Seconds throughout. */
export interface RequestTiming {
  /** Time from the start to the first content token; undefined when none arrived (errors, non-streaming). */
  readonly ttft: number | undefined;
  /** Time from the start to the end of the response. */
  readonly e2e: number;
  /**
   * Every gap between two consecutive arrivals of content tokens. Tokens that reach the router in
   * one read (an engine step that emitted several, or packets coalesced on the way) are one arrival:
   * the application cannot see them apart either.
   */
  readonly itl: readonly number[];
  /** (e2e − ttft) / (outputTokens − 1); undefined with fewer than two output tokens or no TTFT. */
  readonly tpot: number | undefined;
  /** Output tokens, from `usage` when the upstream sent it, else the count of content events. */
  readonly outputTokens: number | undefined;
  /** `usage` when the engine reported the count; `events` when it is estimated from SSE events. */
  readonly outputTokensSource: TokenCountSource | undefined;
  /** SSE events that carried generated content. */
  readonly contentEvents: number;
}

/**
 * TPOT = (e2e − TTFT) / (outputTokens − 1): the first token is TTFT's, the remaining ones share the
 * rest of the time. Undefined when it is not defined (no TTFT, or fewer than two tokens).
 */
export function timePerOutputToken(
  e2e: number,
  ttft: number | undefined,
  outputTokens: number | undefined,
): number | undefined {
  if (ttft === undefined || outputTokens === undefined || outputTokens < 2) return undefined;
  return (e2e - ttft) / (outputTokens - 1);
}

/**
 * Collects the arrival times of one request's content tokens. Allocation-free per arrival apart
 * from growing the ITL list, so it can sit on the streaming hot path.
 */
export class RequestTimer {
  /** When the request started (seconds on the timer's clock). */
  readonly startedAt: number;
  private firstAt = -1;
  private lastAt = -1;
  private events = 0;
  private readonly gaps: number[] = [];

  /** @param startedAt when the request started; TTFT and e2e are measured from here. */
  constructor(startedAt: number) {
    this.startedAt = startedAt;
  }

  /** Content tokens arrived at `now`, carried by `events` SSE events (default 1) read together. */
  arrival(now: number, events = 1): void {
    if (events <= 0) return;
    if (this.firstAt < 0) this.firstAt = now;
    else this.gaps.push(now - this.lastAt);
    this.lastAt = now;
    this.events += events;
  }

  /** True once a content token has arrived. */
  get started(): boolean {
    return this.firstAt >= 0;
  }

  /**
   * The request's latencies, ended at `now`. `usageTokens` is the engine's `completion_tokens`;
   * without it the count of content events stands in (an estimate: one event may carry more than
   * one token).
   */
  finish(now: number, usageTokens?: number): RequestTiming {
    const ttft = this.firstAt >= 0 ? this.firstAt - this.startedAt : undefined;
    const e2e = now - this.startedAt;
    const fromUsage = usageTokens !== undefined;
    const outputTokens = fromUsage ? usageTokens : this.events > 0 ? this.events : undefined;
    return {
      ttft,
      e2e,
      itl: this.gaps,
      tpot: timePerOutputToken(e2e, ttft, outputTokens),
      outputTokens,
      outputTokensSource: outputTokens === undefined ? undefined : fromUsage ? "usage" : "events",
      contentEvents: this.events,
    };
  }
}
