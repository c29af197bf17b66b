/**
 * The simulated application: users having multi-turn conversations with the support bot through the
 * router's OpenAI-compatible proxy, then reporting how each conversation went to the router's
 * outcome endpoint. Conversations arrive as a Poisson process for `durationMs`; those still
 * running then get `drainMs` to finish before they are cut. Concurrency is whatever the arrivals
 * and the answers' latency make it, as with real users, so a slow variant piles up conversations.
 */
import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { ExperimentSpec } from "../../spec/schema.ts";
import type { TrafficSummary } from "../run-result.ts";
import type { Scenario, TrafficModel } from "../scenario-schema.ts";
import { type ChatMessage, createTrafficAgent, type OutcomePost, postOutcome, sendTurn } from "./client.ts";
import { arrivalGaps, type ConversationPlan, pickByShare, planConversation } from "./conversations.ts";
import { outcomeMetrics, outcomeValue } from "./outcomes.ts";

/** A router replica the application sends a share of its requests to (a load balancer's backend). */
export interface TrafficTarget {
  /** Router proxy base URL, without `/v1`. */
  readonly url: string;
  /** Relative weight: each request goes to a target with probability share / sum of shares. */
  readonly share: number;
}

/** What the generator has done so far. */
export interface TrafficSnapshot {
  readonly elapsedMs: number;
  readonly conversationsStarted: number;
  /** Conversations that ran to their last turn or to a failed one (not those cut by abort). */
  readonly conversationsFinished: number;
  /** Conversations not started because {@link MAX_CONVERSATIONS_IN_FLIGHT} were running. */
  readonly conversationsSkipped: number;
  readonly requests: number;
  /** Requests per served variant, from the `x-llm-ab-variant` answer header. */
  readonly requestsByVariant: Readonly<Record<string, number>>;
  readonly failedRequests: number;
  /** Conversations running now. */
  readonly inFlight: number;
  readonly outcomesSent: number;
  readonly outcomesRefused: number;
}

/** How to run the simulated application. */
export interface TrafficOptions {
  /** Each request goes to one, drawn by share (a load balancer). */
  readonly targets: readonly TrafficTarget[];
  /** The experiment: its variants and outcome metrics (and their kinds). */
  readonly spec: ExperimentSpec;
  readonly traffic: TrafficModel;
  /** Per variant, per outcome metric: the distribution its users report. */
  readonly outcomes: Scenario["outcomes"];
  readonly seed: number;
  /** Conversations start only before this, ms after the start. */
  readonly durationMs: number;
  /** After `durationMs`, running conversations may go on for this long, ms; then they are cut. */
  readonly drainMs: number;
  /** Abort: stop at once, cut requests in flight and resolve with what happened. */
  readonly signal?: AbortSignal;
  /** Called about once a second, and once at the end. */
  readonly onProgress?: (snapshot: TrafficSnapshot) => void;
  /** Clock, ms. Default `performance.now`. */
  readonly now?: () => number;
}

/**
 * Most conversations running at once. Real users do not wait for each other, so there is no cap by
 * design; this one only keeps a broken router (answers that never come) from growing the process
 * without bound. A conversation arriving above it is skipped and counted.
 */
export const MAX_CONVERSATIONS_IN_FLIGHT = 2_000;

const PROGRESS_INTERVAL_MS = 1_000;

class Counters {
  conversationsStarted = 0;
  conversationsFinished = 0;
  conversationsSkipped = 0;
  requests = 0;
  readonly requestsByVariant: Record<string, number> = {};
  failedRequests = 0;
  inFlight = 0;
  outcomesSent = 0;
  outcomesRefused = 0;

  snapshot(elapsedMs: number): TrafficSnapshot {
    return { ...this, elapsedMs, requestsByVariant: { ...this.requestsByVariant } };
  }
}

/** Waits `ms`; false when `signal` fired first. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function checkOptions(options: TrafficOptions): void {
  if (options.targets.length === 0) throw new RangeError("traffic needs at least one target");
  for (const target of options.targets) {
    if (!(Number.isFinite(target.share) && target.share >= 0))
      throw new RangeError(`target ${target.url}: share must be a non-negative number, got ${target.share}`);
  }
  if (!options.targets.some((target) => target.share > 0))
    throw new RangeError("traffic needs a target with a positive share");
  for (const key of ["durationMs", "drainMs"] as const) {
    if (!(Number.isFinite(options[key]) && options[key] >= 0))
      throw new RangeError(`${key} must be a non-negative number of milliseconds, got ${options[key]}`);
  }
}

/**
 * Runs the simulated application against the router replicas in `targets` and resolves with what
 * it sent and saw. Throws before any traffic when the options are inconsistent (a spec variant or
 * outcome metric without a draw in `outcomes`, an outcome the spec does not declare, no target).
 * Never rejects once traffic has started: failures are counted, abort resolves.
 */
export async function runTraffic(options: TrafficOptions): Promise<TrafficSummary> {
  checkOptions(options);
  const metrics = outcomeMetrics(options.spec, options.outcomes);
  const { targets, traffic, seed, durationMs, drainMs } = options;
  const shares = targets.map((target) => target.share);
  const now = options.now ?? (() => performance.now());

  // One signal cuts everything: the caller's abort or the end of the drain.
  const stop = new AbortController();
  // Every running conversation listens to it (its think time, its request): no leak, just many.
  setMaxListeners(0, stop.signal);
  const abort = (): void => stop.abort();
  options.signal?.addEventListener("abort", abort, { once: true });
  if (options.signal?.aborted) stop.abort();

  const agent = createTrafficAgent();
  const counters = new Counters();
  const running = new Set<Promise<void>>();
  const startedAt = now();
  const progress =
    options.onProgress === undefined
      ? undefined
      : setInterval(() => options.onProgress?.(counters.snapshot(now() - startedAt)), PROGRESS_INTERVAL_MS);
  const drainEnd = setTimeout(abort, durationMs + drainMs);

  const post = async (plan: ConversationPlan, variant: string, failed: boolean): Promise<void> => {
    const url = targets[pickByShare(shares, plan.outcomeRoute)]!.url;
    const draws = options.outcomes[variant];
    if (draws === undefined) return; // a variant the spec does not name: nothing to report for it
    for (const metric of metrics) {
      const value = outcomeValue(draws[metric]!, plan.outcomeNoise[metric]!, failed);
      if (value === undefined) continue;
      const result: OutcomePost = await postOutcome(
        agent,
        url,
        { unit: plan.id, metric, value },
        stop.signal,
      );
      if (result === "aborted") return;
      counters.outcomesSent++;
      if (result !== "accepted") counters.outcomesRefused++;
    }
  };

  const converse = async (plan: ConversationPlan): Promise<void> => {
    const history: ChatMessage[] = [];
    let variant: string | undefined;
    let failed = false;
    for (const turn of plan.turns) {
      if (!(await pause(turn.thinkSeconds * 1000, stop.signal))) return;
      const messages: ChatMessage[] = [...history, { role: "user", content: turn.content }];
      counters.requests++;
      const result = await sendTurn(
        agent,
        {
          url: targets[pickByShare(shares, turn.route)]!.url,
          conversation: plan.id,
          user: plan.user,
          messages,
          maxTokens: turn.maxTokens,
          stream: turn.stream,
        },
        stop.signal,
      );
      if (result.variant !== undefined) {
        variant = result.variant;
        counters.requestsByVariant[variant] = (counters.requestsByVariant[variant] ?? 0) + 1;
      }
      if (!result.ok) {
        counters.failedRequests++;
        if (result.aborted) return;
        failed = true;
        break;
      }
      history.push(messages.at(-1)!, { role: "assistant", content: result.answer });
    }
    // Outcomes belong to the variant that served the last turn; a conversation whose every turn
    // failed before the router named a variant has none to report them for.
    if (variant !== undefined) await post(plan, variant, failed);
    if (!stop.signal.aborted) counters.conversationsFinished++;
  };

  const start = (index: number): void => {
    if (counters.inFlight >= MAX_CONVERSATIONS_IN_FLIGHT) {
      counters.conversationsSkipped++;
      return;
    }
    counters.conversationsStarted++;
    counters.inFlight++;
    const run: Promise<void> = converse(planConversation(seed, index, traffic, metrics)).finally(() => {
      counters.inFlight--;
      running.delete(run);
    });
    running.add(run);
  };

  try {
    const gaps = arrivalGaps(seed, traffic.conversationsPerSecond);
    let nextMs = gaps.next().value * 1000;
    let index = 0;
    while (!stop.signal.aborted) {
      const elapsed = now() - startedAt;
      if (elapsed >= durationMs) break;
      if (nextMs < durationMs && nextMs <= elapsed) {
        start(index++);
        nextMs += gaps.next().value * 1000;
        continue;
      }
      await pause(Math.min(nextMs, durationMs) - elapsed, stop.signal);
    }
    while (running.size > 0) await Promise.all(running);
  } finally {
    clearTimeout(drainEnd);
    if (progress !== undefined) clearInterval(progress);
    options.signal?.removeEventListener("abort", abort);
    await (stop.signal.aborted ? agent.destroy() : agent.close());
  }
  options.onProgress?.(counters.snapshot(now() - startedAt));
  return {
    conversations: counters.conversationsStarted,
    requests: counters.requests,
    requestsByVariant: { ...counters.requestsByVariant },
    failedRequests: counters.failedRequests,
    outcomesSent: counters.outcomesSent,
    outcomesRefused: counters.outcomesRefused,
  };
}
