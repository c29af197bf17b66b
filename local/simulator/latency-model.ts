/**
 * The simulator's latency model, as pure functions and small state machines with an injected clock
 * (milliseconds): how long a replica takes to the first token and between tokens, how a cold start
 * fades, and who waits in the queue. `server.ts` turns these numbers into timers; tests drive them
 * directly.
 *
 * Formulas (all times in ms):
 * - jitter = exp(σ · z), z ~ N(0, 1): log-normal with median 1 and σ = `latency.jitter`.
 * - TTFT   = queue wait + (ttftMs + prefillMsPerToken · uncached prompt tokens)
 *                          · jitter · coldFactor · ttftFactor
 *   (the queue wait is what the request really waited; {@link firstTokenMs} is the rest).
 * - ITL    = itlMs · (1 + decodeSlowdownPerRunning · running) · jitter · coldFactor · itlFactor,
 *   drawn for each token after the first, `running` counted when the token is scheduled.
 * - coldFactor = 1 + (factor − 1) · fade, fade = max(1 − n / coldStart.requests, 1 − t / coldStart.seconds, 0)
 *   with n requests and t seconds since the replica became cold: it fades linearly to 1 over
 *   whichever of the two lasts longer. A replica idle for more than `idleSeconds` is cold again.
 */
import type { ColdStart, LatencyModel } from "../scenario-schema.ts";

/** The log-normal jitter multiplier for a standard normal draw `z`: median 1, σ of the log = `sigma`. */
export function jitterFactor(sigma: number, z: number): number {
  return Math.exp(sigma * z);
}

/** How far into its cold start a replica is. */
export interface ColdState {
  /** Clock (ms) when the replica last became cold; -Infinity when it started warm. */
  readonly coldSinceMs: number;
  /** Requests begun since it became cold. */
  readonly requestsSinceCold: number;
}

/** The cold-start fade, 1 (just cold) to 0 (warm), for a request beginning at `nowMs`. */
export function coldFade(cold: ColdStart, state: ColdState, nowMs: number): number {
  const byRequests = cold.requests > 0 ? 1 - state.requestsSinceCold / cold.requests : 0;
  const bySeconds = cold.seconds > 0 ? 1 - (nowMs - state.coldSinceMs) / 1000 / cold.seconds : 0;
  return Math.min(1, Math.max(0, byRequests, bySeconds));
}

/** The latency multiplier of a request beginning at `nowMs`: `factor` when just cold, fading to 1. */
export function coldFactor(cold: ColdStart, state: ColdState, nowMs: number): number {
  return 1 + (cold.factor - 1) * coldFade(cold, state, nowMs);
}

/**
 * A replica's cold-start clock: cold when started cold, cold again after `idleSeconds` without a
 * request, warming with every request and second since.
 */
export class ColdStartClock {
  private state: ColdState;
  private lastActivityMs: number;

  constructor(
    private readonly cold: ColdStart,
    startCold: boolean,
    startedAtMs: number,
  ) {
    this.state = startCold
      ? { coldSinceMs: startedAtMs, requestsSinceCold: 0 }
      : { coldSinceMs: Number.NEGATIVE_INFINITY, requestsSinceCold: Number.POSITIVE_INFINITY };
    this.lastActivityMs = startedAtMs;
  }

  /** A request begins at `nowMs`: its cold factor (counting the requests before it), then counts it. */
  begin(nowMs: number): number {
    if (nowMs - this.lastActivityMs > this.cold.idleSeconds * 1000) {
      this.state = { coldSinceMs: nowMs, requestsSinceCold: 0 };
    }
    const factor = coldFactor(this.cold, this.state, nowMs);
    this.state = { ...this.state, requestsSinceCold: this.state.requestsSinceCold + 1 };
    this.lastActivityMs = nowMs;
    return factor;
  }

  /** A request ended at `nowMs`: a replica busy until then was not idle. */
  touch(nowMs: number): void {
    this.lastActivityMs = Math.max(this.lastActivityMs, nowMs);
  }

  /** The current state (for tests and logs). */
  get current(): ColdState {
    return this.state;
  }
}

/** Multipliers a scenario change applies on top of the model (1 = none). */
export interface LatencyFactors {
  readonly cold: number;
  readonly ttft: number;
  readonly itl: number;
}

/** Time from admission to the first token: (ttftMs + prefillMsPerToken · uncached) · jitter · cold · ttftFactor. */
export function firstTokenMs(
  latency: LatencyModel,
  uncachedPromptTokens: number,
  jitter: number,
  factors: LatencyFactors,
): number {
  return (
    (latency.ttftMs + latency.prefillMsPerToken * uncachedPromptTokens) * jitter * factors.cold * factors.ttft
  );
}

/** Time to the next token: itlMs · (1 + decodeSlowdownPerRunning · running) · jitter · cold · itlFactor. */
export function nextTokenMs(
  latency: LatencyModel,
  running: number,
  jitter: number,
  factors: LatencyFactors,
): number {
  return (
    latency.itlMs * (1 + latency.decodeSlowdownPerRunning * running) * jitter * factors.cold * factors.itl
  );
}

/**
 * The engine's scheduler: at most `maxRunning` requests decode at once; later ones wait first in,
 * first out. `admit` is called (synchronously) when a request gets a slot.
 */
export class BatchQueue<T> {
  private readonly waitingList: { item: T; admit: (item: T) => void }[] = [];
  private readonly runningSet = new Set<T>();

  constructor(private readonly maxRunning: number) {}

  get running(): number {
    return this.runningSet.size;
  }

  get waiting(): number {
    return this.waitingList.length;
  }

  /** Queues `item`; admits it at once when a slot is free. */
  enqueue(item: T, admit: (item: T) => void): void {
    this.waitingList.push({ item, admit });
    this.schedule();
  }

  /** `item` finished, failed or was aborted: frees its slot or takes it out of the queue. */
  remove(item: T): void {
    if (!this.runningSet.delete(item)) {
      const at = this.waitingList.findIndex((entry) => entry.item === item);
      if (at >= 0) this.waitingList.splice(at, 1);
    }
    this.schedule();
  }

  private schedule(): void {
    while (this.runningSet.size < this.maxRunning) {
      const next = this.waitingList.shift();
      if (next === undefined) return;
      this.runningSet.add(next.item);
      next.admit(next.item);
    }
  }
}
