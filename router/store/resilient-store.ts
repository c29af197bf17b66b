/**
 * A store outage never fails a request: this wrapper puts a local cache in front of the shared
 * store (Redis) and falls back to it when the shared store errors or times out.
 *
 * - Known units are answered from the cache without a round trip (a stored first assignment never
 *   changes, so caching it is always correct).
 * - When the shared store fails, new units are assigned locally (the caller's proposal, i.e. the
 *   hash) and the write is queued. After a failure the shared store is skipped for `retryAfterMs`
 *   rather than tried by every request, so an outage costs no latency.
 * - Queued writes are flushed when the shared store answers again (on the next success and on a
 *   timer). If another replica stored a different assignment for the same unit meanwhile, the
 *   shared one wins and replaces the local one, so all replicas converge; `stats().conflicts`
 *   counts those units.
 * - Every operation the shared store did not serve is counted (`RouterCounters.storeFailure`);
 *   the log gets at most one line per `logIntervalMs` with the count since the previous line, and
 *   one line when the store is back.
 *
 * State writes during an outage apply locally and are flushed the same way; a flush that meets a
 * newer shared state keeps the shared one (the version check of `writeState`).
 */
import { MemoryStore } from "./memory-store.ts";
import {
  type ClaimResult,
  checkStateRecord,
  INITIAL_STATE,
  noCounters,
  type RouterCounters,
  type RouterStore,
  type StateRecord,
  type StoredAssignment,
  type StoreFailureKind,
  type StoreLogger,
  silentLogger,
} from "./types.ts";

/** Options for `ResilientStore`. */
export interface ResilientStoreOptions {
  /** The shared store, usually a RedisStore. Closed by `close()`. */
  readonly primary: RouterStore;
  /** Assignments the local cache holds. Default 100,000. */
  readonly cacheCapacity?: number;
  /** Default: counts nothing. */
  readonly counters?: RouterCounters;
  /** Default: logs nothing. */
  readonly logger?: StoreLogger;
  /** Clock in epoch milliseconds. Default `Date.now`. */
  readonly now?: () => number;
  /** After a failure, how long the shared store is skipped, ms. Default 1000. */
  readonly retryAfterMs?: number;
  /** Least time between two outage log lines, ms. Default 10,000. */
  readonly logIntervalMs?: number;
  /** Most queued assignment writes; beyond it new ones stay local only (counted as `queue_full`). Default 100,000. */
  readonly maxQueued?: number;
  /** How often queued writes are retried, ms; 0 disables the timer (call `flush()`). Default 1000. */
  readonly flushIntervalMs?: number;
}

/** Counts describing the wrapper's condition. */
export interface ResilientStoreStats {
  /** Writes waiting for the shared store (assignments plus states). */
  readonly queued: number;
  /** Units whose local assignment lost to a different shared one at catch-up. */
  readonly conflicts: number;
  /** False while the shared store is being skipped after a failure. */
  readonly available: boolean;
}

interface QueuedClaim {
  readonly namespace: string;
  readonly unitId: string;
  readonly assignment: StoredAssignment;
}

/** Queued writes are sent this many at a time, so catching up on a long outage takes few round trips. */
const FLUSH_BATCH = 64;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sameAssignment(a: StoredAssignment, b: StoredAssignment): boolean {
  return (
    a.variant === b.variant &&
    a.firstAssignedAt === b.firstAssignedAt &&
    a.allocationPercent === b.allocationPercent &&
    a.bucket === b.bucket
  );
}

/** The shared store behind a local cache that keeps answering when the shared store is down. */
export class ResilientStore implements RouterStore {
  private readonly primary: RouterStore;
  private readonly cache: MemoryStore;
  private readonly counters: RouterCounters;
  private readonly logger: StoreLogger;
  private readonly now: () => number;
  private readonly retryAfterMs: number;
  private readonly logIntervalMs: number;
  private readonly maxQueued: number;
  private readonly queuedClaims = new Map<string, QueuedClaim>();
  private readonly queuedStates = new Map<string, StateRecord>();
  private readonly timer: NodeJS.Timeout | undefined;
  private skipUntil = Number.NEGATIVE_INFINITY;
  private degraded = false;
  private failuresSinceLog = 0;
  private lastLogAt = Number.NEGATIVE_INFINITY;
  private conflicts = 0;
  private flushing: Promise<number> | undefined;

  constructor(options: ResilientStoreOptions) {
    this.primary = options.primary;
    this.cache = new MemoryStore({ capacity: options.cacheCapacity ?? 100_000 });
    this.counters = options.counters ?? noCounters;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.retryAfterMs = options.retryAfterMs ?? 1_000;
    this.logIntervalMs = options.logIntervalMs ?? 10_000;
    this.maxQueued = options.maxQueued ?? 100_000;
    const flushIntervalMs = options.flushIntervalMs ?? 1_000;
    if (flushIntervalMs > 0) {
      this.timer = setInterval(() => {
        if (this.queuedCount > 0 && this.reachable()) void this.flush();
      }, flushIntervalMs);
      // Catching up must not keep a finished process alive.
      this.timer.unref();
    }
  }

  private get queuedCount(): number {
    return this.queuedClaims.size + this.queuedStates.size;
  }

  /** Counts describing the wrapper's condition. */
  stats(): ResilientStoreStats {
    return { queued: this.queuedCount, conflicts: this.conflicts, available: this.reachable() };
  }

  private reachable(): boolean {
    return this.now() >= this.skipUntil;
  }

  /** Records an operation the shared store did not serve; `error` set when it was tried and failed. */
  private failed(kind: StoreFailureKind, error?: unknown): void {
    this.counters.storeFailure(kind);
    this.failuresSinceLog += 1;
    const now = this.now();
    if (error !== undefined) {
      this.skipUntil = now + this.retryAfterMs;
      this.degraded = true;
    }
    if (error !== undefined && now - this.lastLogAt >= this.logIntervalMs) {
      this.logger.warn(
        { kind, failures: this.failuresSinceLog, queued: this.queuedCount, error: errorMessage(error) },
        "assignment store unreachable: serving from the hash and the local cache, queueing writes",
      );
      this.lastLogAt = now;
      this.failuresSinceLog = 0;
    }
  }

  /** Records that the shared store answered; after an outage, starts catching up. */
  private answered(): void {
    const wasDegraded = this.degraded;
    this.markReachable();
    if (wasDegraded && this.queuedCount > 0) void this.flush();
  }

  /** Clears the outage, logging once that it ended. */
  private markReachable(): void {
    this.skipUntil = Number.NEGATIVE_INFINITY;
    if (!this.degraded) return;
    this.degraded = false;
    this.logger.info(
      { failures: this.failuresSinceLog, queued: this.queuedCount },
      "assignment store reachable again: flushing queued writes",
    );
    this.failuresSinceLog = 0;
  }

  private static queueKey(namespace: string, unitId: string): string {
    return `${namespace}\n${unitId}`;
  }

  async get(namespace: string, unitId: string): Promise<StoredAssignment | undefined> {
    const cached = this.cache.peek(namespace, unitId);
    if (cached !== undefined) return cached;
    if (!this.reachable()) {
      this.failed("get");
      return undefined;
    }
    try {
      const found = await this.primary.get(namespace, unitId);
      this.answered();
      if (found !== undefined) this.cache.put(namespace, unitId, found);
      return found;
    } catch (error) {
      this.failed("get", error);
      return undefined;
    }
  }

  /** A cached unit's claim, answered without I/O; undefined when the shared store must be asked. */
  claimLocal(namespace: string, unitId: string): ClaimResult | undefined {
    const cached = this.cache.peek(namespace, unitId);
    if (cached === undefined) return undefined;
    const queued =
      this.queuedClaims.size > 0 && this.queuedClaims.has(ResilientStore.queueKey(namespace, unitId));
    return { assignment: cached, created: false, durable: !queued };
  }

  async claim(namespace: string, unitId: string, propose: () => StoredAssignment): Promise<ClaimResult> {
    const cachedClaim = this.claimLocal(namespace, unitId);
    if (cachedClaim !== undefined) return cachedClaim;
    if (this.reachable()) {
      try {
        const result = await this.primary.claim(namespace, unitId, propose);
        this.answered();
        this.cache.put(namespace, unitId, result.assignment);
        return result;
      } catch (error) {
        this.failed("claim", error);
      }
    } else {
      this.failed("claim");
    }
    // A concurrent request for the same unit may have filled the cache while this one waited.
    const queueKey = ResilientStore.queueKey(namespace, unitId);
    const local = this.cache.claimLocal(namespace, unitId, propose);
    if (local.created) {
      if (this.queuedClaims.size < this.maxQueued) {
        this.queuedClaims.set(queueKey, { namespace, unitId, assignment: local.assignment });
      } else {
        this.counters.storeFailure("queue_full");
      }
    }
    const durable = !local.created && !this.queuedClaims.has(queueKey);
    return { assignment: local.assignment, created: local.created, durable };
  }

  async readState(experiment: string): Promise<StateRecord | undefined> {
    if (this.reachable()) {
      try {
        const stored = await this.primary.readState(experiment);
        this.answered();
        if (stored !== undefined) this.cache.putState(experiment, stored);
        return this.queuedStates.get(experiment) ?? stored;
      } catch (error) {
        this.failed("state_read", error);
      }
    } else {
      this.failed("state_read");
    }
    return this.queuedStates.get(experiment) ?? this.cache.stateOf(experiment);
  }

  async writeState(experiment: string, next: StateRecord): Promise<StateRecord> {
    checkStateRecord(next);
    // A state written during the outage goes first, or this write's version would not follow it.
    if (this.queuedStates.has(experiment) && this.reachable()) await this.flush();
    if (this.reachable() && !this.queuedStates.has(experiment)) {
      try {
        const stored = await this.primary.writeState(experiment, next);
        this.answered();
        this.cache.putState(experiment, stored);
        return stored;
      } catch (error) {
        this.failed("state_write", error);
      }
    } else {
      this.failed("state_write");
    }
    const current = this.queuedStates.get(experiment) ?? this.cache.stateOf(experiment);
    if ((current?.version ?? 0) !== next.version - 1) return current ?? INITIAL_STATE;
    this.cache.putState(experiment, next);
    this.queuedStates.set(experiment, next);
    return next;
  }

  /**
   * Sends queued writes to the shared store now; resolves to how many reached it. Stops at the
   * first failure (the rest stay queued). Concurrent calls share one run.
   */
  flush(): Promise<number> {
    this.flushing ??= this.flushQueued().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async flushQueued(): Promise<number> {
    let written = 0;
    try {
      for (const [experiment, record] of [...this.queuedStates]) {
        const stored = await this.primary.writeState(experiment, record);
        this.cache.putState(experiment, stored);
        if (this.queuedStates.get(experiment) === record) this.queuedStates.delete(experiment);
        written += 1;
      }
      const claims = [...this.queuedClaims];
      for (let start = 0; start < claims.length; start += FLUSH_BATCH) {
        const batch = claims.slice(start, start + FLUSH_BATCH);
        await Promise.all(
          batch.map(async ([queueKey, queued]) => {
            const result = await this.primary.claim(queued.namespace, queued.unitId, () => queued.assignment);
            if (!result.created && !sameAssignment(result.assignment, queued.assignment)) this.conflicts += 1;
            this.cache.put(queued.namespace, queued.unitId, result.assignment);
            this.queuedClaims.delete(queueKey);
            written += 1;
          }),
        );
      }
      this.markReachable();
    } catch (error) {
      this.failed("flush", error);
    }
    return written;
  }

  /** Stops the flush timer, tries one last flush, and closes the shared store. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.queuedCount > 0) await this.flush();
    await this.primary.close();
    await this.cache.close();
  }
}
