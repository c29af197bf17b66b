/**
 * The router's dependencies in one object (`RouterContext`): what both ports' handlers read. Built
 * from a spec by {@link RouterContext.create}, which wires these together:
 *
 * - the store: `MemoryStore` (router.store memory) or `ResilientStore` over `RedisStore` (redis), so
 *   a Redis outage never fails a request;
 * - the runtime state (`ExperimentStateWatcher`, polling the store so pause/rollback reach every
 *   replica within a second) and the metrics it drives (`llmab_experiment_state`,
 *   `llmab_treatment_fraction`);
 * - the spec's {@link SpecRuntime} (assigner, unit ids, replica sets), swapped on reload;
 * - the event log and the shadow log (`RecordLog`s, or nowhere);
 * - one undici agent for all upstream calls, and the count of requests in flight for shutdown.
 */
import type { Logger } from "pino";
import { collectDefaultMetrics } from "prom-client";
import type { Agent } from "undici";
import { specHash } from "../spec/load.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import { BanditCache } from "./bandit/cache.ts";
import { RedisBanditStore } from "./bandit/redis-store.ts";
import { type BanditStore, MemoryBanditStore } from "./bandit/store.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./body.ts";
import { ExperimentStateWatcher } from "./experiment-state.ts";
import { InFlight } from "./in-flight.ts";
import { RouterMetrics } from "./metrics.ts";
import { nullRecordLog, RecordLog } from "./records.ts";
import type { DnsResolver } from "./replicas.ts";
import { type ReplicaDns, type RuntimeDeps, SpecRuntime } from "./runtime.ts";
import { MemoryStore } from "./store/memory-store.ts";
import { RedisStore } from "./store/redis-store.ts";
import { ResilientStore } from "./store/resilient-store.ts";
import type { RouterCounters, RouterStore, StateRecord } from "./store/types.ts";
import type { Clock } from "./timing.ts";
import { createUpstreamAgent } from "./upstream-call.ts";

/** Where records go: a `RecordLog`, or `nullRecordLog`. */
export type RecordSink = Pick<RecordLog, "write" | "flush" | "close">;

/** Upstream call limits (see `callUpstream`); absent fields take its defaults. */
export interface UpstreamLimits {
  readonly headersTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
}

/** Options of {@link RouterContext.create}. */
export interface RouterContextOptions {
  readonly spec: ExperimentSpec;
  readonly logger: Logger;
  /** JSON-lines event log (exposures, outcomes). Absent: records are not kept. */
  readonly eventsPath?: string;
  /** Shadow log; default the spec's `router.shadowLogPath`, else the event log, else nowhere. */
  readonly shadowLogPath?: string;
  /** Bearer token of the admin API. Absent: the admin API refuses every protected call. */
  readonly adminToken?: string;
  /** Overrides the store the spec asks for (tests). Closed by `close()`. */
  readonly store?: RouterStore;
  /** Overrides the record logs (tests). Closed by `close()`. */
  readonly records?: RecordSink;
  readonly shadowRecords?: RecordSink;
  /** Headless-Service names for deployments without endpoints. */
  readonly replicaDns?: ReplicaDns;
  /** How often the shared state is read, ms. Default 500. */
  readonly statePollMs?: number;
  /** Largest request body, bytes. Default 8 MiB. */
  readonly maxBodyBytes?: number;
  readonly upstream?: UpstreamLimits;
  /** Most time to open a connection to a replica, ms. Default 5,000. */
  readonly connectTimeoutMs?: number;
  /** Clock of replica warm-up, seconds. Default `performance.now()`. */
  readonly replicaClock?: Clock;
  readonly dnsResolver?: DnsResolver;
  /** Also export Node.js process metrics (CPU, memory, event loop) on /metrics. Default true. */
  readonly processMetrics?: boolean;
  /** Mode bandit: overrides the bandit's store (default: Redis beside the assignments, else memory). */
  readonly banditStore?: BanditStore;
  /** Mode bandit: how often the shared allocation is read, ms (0: before every new unit). Default 1,000. */
  readonly banditRefreshMs?: number;
}

/** The outcome of {@link RouterContext.applySpec}. */
export type ApplyResult =
  | { readonly ok: true; readonly changed: boolean }
  | { readonly ok: false; readonly problems: readonly string[] };

function recordLog(path: string, logger: Logger, what: string): RecordLog {
  let lastLogged = Number.NEGATIVE_INFINITY;
  let failures = 0;
  return new RecordLog({
    path,
    // One line per 10 s at most: a full disk fails every batch.
    onError: (error) => {
      failures += 1;
      if (Date.now() - lastLogged < 10_000) return;
      logger.error(
        { path, failures, error: error.message },
        `cannot append to the ${what}; records are lost`,
      );
      lastLogged = Date.now();
      failures = 0;
    },
  });
}

/** The store the spec asks for; with Redis, also the Redis client to wait for at startup. */
function storeFor(
  spec: ExperimentSpec,
  counters: RouterCounters,
  logger: Logger,
): { store: RouterStore; redis?: RedisStore } {
  if (spec.router.store === "memory")
    return { store: new MemoryStore({ capacity: spec.router.maxStoredUnits }) };
  const url = spec.router.redisUrl;
  if (url === undefined) throw new Error("router.store is redis but router.redisUrl is not set");
  // A bandit stores `request` units too (to match their rewards): they need not outlive the window.
  const bandit = spec.rollout.bandit;
  const ttlSeconds =
    spec.unit === "request" && bandit !== undefined ? bandit.rewardWindowSeconds + 3600 : undefined;
  const redis = new RedisStore({
    url,
    ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
    // ioredis reports every failed reconnect; the resilient store logs the outage itself.
    onConnectionError: (error) => logger.debug({ error: error.message }, "redis connection error"),
  });
  return { store: new ResilientStore({ primary: redis, counters, logger }), redis };
}

/**
 * Treatment share of new units per treatment variant: 0 unless active and splitting traffic; for a
 * bandit, the allocation in force (republished whenever it changes).
 */
function treatmentFractions(runtime: SpecRuntime, state: StateRecord): Record<string, number> {
  const { spec } = runtime;
  const live = state.state === "active" && spec.rollout.mode !== "shadow";
  const each = live ? spec.rollout.treatmentPercent / 100 / runtime.arms.treatments.length : 0;
  const bandit = runtime.bandit?.current().probabilities;
  return Object.fromEntries(
    runtime.arms.treatments.map((name) => [name, bandit === undefined || !live ? each : (bandit[name] ?? 0)]),
  );
}

/** The parts a RouterContext is made of (see {@link RouterContext.create}). */
interface ContextParts {
  readonly experiment: string;
  readonly logger: Logger;
  readonly metrics: RouterMetrics;
  readonly store: RouterStore;
  readonly state: ExperimentStateWatcher;
  readonly records: RecordSink;
  readonly shadowRecords: RecordSink;
  readonly adminToken: string | undefined;
  readonly maxBodyBytes: number;
  readonly upstream: UpstreamLimits;
  readonly agent: Agent;
  readonly runtimeDeps: RuntimeDeps;
  readonly bandits: BanditCache;
}

/** Everything the proxy and admin handlers need, for one experiment. */
export class RouterContext implements ContextParts {
  readonly experiment: string;
  readonly logger: Logger;
  readonly metrics: RouterMetrics;
  readonly store: RouterStore;
  readonly state: ExperimentStateWatcher;
  readonly records: RecordSink;
  readonly shadowRecords: RecordSink;
  readonly adminToken: string | undefined;
  readonly maxBodyBytes: number;
  readonly upstream: UpstreamLimits;
  /** One keep-alive agent for every upstream call of this router. */
  readonly agent: Agent;
  readonly runtimeDeps: RuntimeDeps;
  readonly bandits: BanditCache;
  readonly inFlight = new InFlight();
  /** Set when shutdown begins: /readyz fails and proxied answers close their connection. */
  draining = false;
  private current: SpecRuntime;
  private currentHash: string;

  private constructor(parts: ContextParts, runtime: SpecRuntime) {
    this.experiment = parts.experiment;
    this.logger = parts.logger;
    this.metrics = parts.metrics;
    this.store = parts.store;
    this.state = parts.state;
    this.records = parts.records;
    this.shadowRecords = parts.shadowRecords;
    this.adminToken = parts.adminToken;
    this.maxBodyBytes = parts.maxBodyBytes;
    this.upstream = parts.upstream;
    this.agent = parts.agent;
    this.runtimeDeps = parts.runtimeDeps;
    this.bandits = parts.bandits;
    this.current = runtime;
    this.currentHash = specHash(runtime.spec);
    this.publishState(this.state.current());
  }

  /**
   * Builds the context: the store (waiting up to 2 s for Redis, then serving from the hash), the
   * state (read once, then polled), the replica sets (first DNS resolution), the logs.
   */
  static async create(options: RouterContextOptions): Promise<RouterContext> {
    const { spec, logger } = options;
    const metrics = new RouterMetrics();
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: metrics.registry });
    const counters = metrics.countersFor(spec.name);
    const { store, redis } =
      options.store === undefined ? storeFor(spec, counters, logger) : { store: options.store };
    let context: RouterContext | undefined;
    const state = new ExperimentStateWatcher({
      experiment: spec.name,
      store,
      counters,
      ...(options.statePollMs === undefined ? {} : { pollIntervalMs: options.statePollMs }),
      onChange: (record, previous) => {
        logger.warn(
          { from: previous.state, to: record.state, reason: record.reason, actor: record.actor },
          `experiment ${spec.name} is now ${record.state}`,
        );
        context?.publishState(record);
      },
    });
    await redis?.ready(2_000).catch((error: Error) => {
      logger.warn({ error: error.message }, "Redis is not reachable yet: assigning from the hash meanwhile");
    });
    await state.start();
    const records =
      options.records ??
      (options.eventsPath === undefined ? nullRecordLog : recordLog(options.eventsPath, logger, "event log"));
    const shadowPath = options.shadowLogPath ?? spec.router.shadowLogPath;
    const shadowRecords =
      options.shadowRecords ??
      (shadowPath === undefined || shadowPath === options.eventsPath
        ? records
        : recordLog(shadowPath, logger, "shadow log"));
    const banditStore =
      options.banditStore ??
      (redis === undefined ? new MemoryBanditStore() : new RedisBanditStore(redis.client, redis.keyPrefix));
    const bandits = new BanditCache(banditStore, metrics.registry, logger, options.banditRefreshMs, () =>
      context?.publishState(state.current()),
    );
    const runtimeDeps: RuntimeDeps = {
      store,
      state,
      counters,
      banditFor: (next, arms) => bandits.for(next, arms),
      ...(options.replicaDns === undefined ? {} : { replicaDns: options.replicaDns }),
      ...(options.replicaClock === undefined ? {} : { now: options.replicaClock }),
      ...(options.dnsResolver === undefined ? {} : { resolver: options.dnsResolver }),
      onResolveError: (deployment, error) =>
        logger.warn(
          { deployment, error: error.message },
          "DNS resolution failed: keeping the last known replicas",
        ),
    };
    const runtime = await SpecRuntime.build(spec, runtimeDeps);
    context = new RouterContext(
      {
        experiment: spec.name,
        logger,
        metrics,
        store,
        state,
        records,
        shadowRecords,
        adminToken: options.adminToken === "" ? undefined : options.adminToken,
        maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        upstream: options.upstream ?? {},
        agent: createUpstreamAgent(options.connectTimeoutMs),
        runtimeDeps,
        bandits,
      },
      runtime,
    );
    return context;
  }

  /** The spec in force and what was built from it. Read once per request. */
  get runtime(): SpecRuntime {
    return this.current;
  }

  /** Sets the state gauge and the treatment fractions for `record`'s state. */
  publishState(record: StateRecord): void {
    this.metrics.setExperimentState(this.experiment, record.state);
    this.metrics.setTreatmentFractions(this.experiment, treatmentFractions(this.current, record));
  }

  /**
   * Applies a new, valid spec without a restart. Refused (the old spec stays) when it names another
   * experiment or another store: those need a restart. A spec equal to the current one (after
   * defaults) changes nothing. Stored assignments keep winning until the salt changes.
   */
  async applySpec(spec: ExperimentSpec): Promise<ApplyResult> {
    const old = this.current.spec;
    const problems: string[] = [];
    if (spec.name !== old.name) {
      problems.push(
        `name: changed from ${old.name} to ${spec.name}; a router serves one experiment, start another router for it`,
      );
    }
    if (spec.router.store !== old.router.store || spec.router.redisUrl !== old.router.redisUrl) {
      problems.push("router.store / router.redisUrl: changed; restart the router to switch stores");
    }
    if (problems.length > 0) return { ok: false, problems };
    const hash = specHash(spec);
    if (hash === this.currentHash) return { ok: true, changed: false };
    let next: SpecRuntime;
    try {
      next = await SpecRuntime.build(spec, this.runtimeDeps, this.current);
    } catch (error) {
      return { ok: false, problems: [error instanceof Error ? error.message : String(error)] };
    }
    const previous = this.current;
    this.current = next;
    this.currentHash = hash;
    previous.retire(next);
    this.publishState(this.state.current());
    return { ok: true, changed: true };
  }

  /** Why the router is not ready, or undefined when it is. */
  notReadyReason(): string | undefined {
    if (this.draining) return "the router is shutting down";
    const runtime = this.current;
    const control = runtime.variant(runtime.arms.control);
    if (runtime.replicasOf(control).replicas.length === 0) {
      return `no replica of deployment ${control.deployment} (control variant ${runtime.arms.control}) is known yet: check its endpoints or its headless Service`;
    }
    return undefined;
  }

  /** Stops polling, flushes and closes the logs, closes the store and the upstream connections. */
  async close(): Promise<void> {
    this.state.stop();
    this.bandits.stop();
    this.current.retire();
    await Promise.all([this.records.close(), this.shadowRecords.close()]);
    await this.store.close();
    // Requests still open past the shutdown deadline (a stalled mirror) are aborted, not awaited.
    await (this.inFlight.size === 0 ? this.agent.close() : this.agent.destroy());
  }
}
