/**
 * Warm vs cold (DESIGN.md, "Warm vs cold"): a request is labelled `replica_state="cold"` while its
 * replica is inside its warm-up, because a fresh or long-idle vLLM replica has empty prefix and
 * KV caches (and maybe un-captured CUDA graphs) and answers slower for reasons that say nothing about
 * the variant. Latency guardrails compare warm with warm.
 *
 * Pure: every function takes the time (`now`, seconds on one monotonic clock) and returns new
 * values; the replica set (replicas.ts) keeps one `ReplicaWarmth` per replica.
 */

/** The label on every latency observation. */
export type ReplicaState = "warm" | "cold";

/** Why a replica counts as cold, checked in this order. */
export type ColdReason = "young" | "few_requests" | "idle";

/** The spec's `deployments.<name>.warmup` (defaults there: 20 requests, 120 s, 300 idle seconds). */
export interface WarmupPolicy {
  /** Cold until this many requests have been served. */
  readonly requests: number;
  /** Cold until the replica has been known this many seconds. */
  readonly seconds: number;
  /** Cold again after this many seconds without any request in flight. */
  readonly idleSeconds: number;
}

/** What the router has seen of one replica. */
export interface ReplicaWarmth {
  /**
   * When the router first saw the replica (seconds). The router cannot ask a server how long it has
   * been up, so a restarted router relabels known replicas cold for one warm-up: conservative, since
   * cold traffic only leaves the warm comparisons, it never pollutes them.
   */
  readonly since: number;
  /** Requests the replica answered (any status): it did the work, so its caches are filling. */
  readonly served: number;
  /** Requests currently being answered; a replica with one in flight is not idle. */
  readonly inFlight: number;
  /** Last time a request started or ended on the replica, or `since` before any. */
  readonly lastActiveAt: number;
}

/** A replica seen for the first time at `now`: cold until it has warmed up. */
export function freshWarmth(now: number): ReplicaWarmth {
  return { since: now, served: 0, inFlight: 0, lastActiveAt: now };
}

/**
 * Why the replica is cold at `now`, or undefined when it is warm. Cold while younger than
 * `policy.seconds`, or fewer than `policy.requests` served, or idle (nothing in flight) for longer
 * than `policy.idleSeconds`. A request is labelled from the state before it starts, so the request
 * that ends an idle spell is itself cold and the one after it warm.
 */
export function coldReason(warmth: ReplicaWarmth, policy: WarmupPolicy, now: number): ColdReason | undefined {
  if (now - warmth.since < policy.seconds) return "young";
  if (warmth.served < policy.requests) return "few_requests";
  if (warmth.inFlight === 0 && now - warmth.lastActiveAt > policy.idleSeconds) return "idle";
  return undefined;
}

/** `"cold"` when {@link coldReason} finds a reason, else `"warm"`. */
export function replicaState(warmth: ReplicaWarmth, policy: WarmupPolicy, now: number): ReplicaState {
  return coldReason(warmth, policy, now) === undefined ? "warm" : "cold";
}

/** The warmth once a request has started on the replica at `now`. */
export function afterStart(warmth: ReplicaWarmth, now: number): ReplicaWarmth {
  return { ...warmth, inFlight: warmth.inFlight + 1, lastActiveAt: now };
}

/**
 * The warmth once a request that started on the replica has ended at `now`. `served` is false when
 * the replica never answered (connection refused, timeout before the response): such a request
 * warmed nothing, so it does not count toward `policy.requests`.
 */
export function afterEnd(warmth: ReplicaWarmth, now: number, served: boolean): ReplicaWarmth {
  return {
    since: warmth.since,
    served: served ? warmth.served + 1 : warmth.served,
    inFlight: Math.max(0, warmth.inFlight - 1),
    lastActiveAt: now,
  };
}
