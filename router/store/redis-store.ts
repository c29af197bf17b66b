/**
 * Assignments and experiment states in Redis, shared by every router replica of an experiment.
 *
 * - Assignment key `<prefix>assign:<experiment>:<salt digest>:<unit id>` (see
 *   `assignmentNamespace`): a new salt starts from empty keys, which is what re-randomizes.
 * - A claim is one `SET key value NX GET` (Redis ≥ 7.0): atomic, so when two replicas see a new unit
 *   at once exactly one proposal is stored and both return it. One round trip for new and known
 *   units alike.
 * - State key `<prefix>state:<experiment>`, written by a Lua compare-and-set on the record's
 *   version so concurrent pause/rollback calls from several replicas cannot overwrite each other.
 *
 * The client fails fast instead of queueing: once connected, no offline queue, no retries of
 * in-flight commands, a short command timeout. A request must never wait on Redis; the resilient
 * store turns these errors into hash-and-cache answers.
 */
import { Redis } from "ioredis";
import { z } from "zod";
import { BUCKET_COUNT } from "../hash.ts";
import {
  type ClaimResult,
  checkStateRecord,
  experimentStates,
  INITIAL_STATE,
  type RouterStore,
  type StateRecord,
  type StoredAssignment,
} from "./types.ts";

/** Options for `RedisStore`. Give `url` or `client`. */
export interface RedisStoreOptions {
  /** `redis://` or `rediss://` URL (the spec's `router.redisUrl`); the store creates and owns the client. */
  readonly url?: string;
  /** An existing client instead of `url`; the store does not close it. */
  readonly client?: Redis;
  /** Prefix of every key. Default `llmab:`. */
  readonly keyPrefix?: string;
  /** Milliseconds before a command counts as failed. Default 250. Only used with `url`. */
  readonly commandTimeoutMs?: number;
  /** Expiry of assignment keys in seconds. Default: none, assignments live until deleted. */
  readonly ttlSeconds?: number;
  /** Called with connection errors (the client reconnects by itself). Default: ignored. */
  readonly onConnectionError?: (error: Error) => void;
}

const storedAssignmentSchema = z.object({
  variant: z.string().min(1),
  firstAssignedAt: z.number(),
  allocationPercent: z.number().min(0).max(100),
  bucket: z
    .int()
    .min(0)
    .max(BUCKET_COUNT - 1),
  propensities: z.record(z.string(), z.number().min(0).max(1)).optional(),
  allocationVersion: z.int().min(0).optional(),
});

const stateRecordSchema = z.object({
  state: z.enum(experimentStates),
  version: z.int().min(0),
  changedAt: z.number(),
  reason: z.string().optional(),
  actor: z.string().optional(),
});

/**
 * Compare-and-set of a JSON record on its `version` field: writes ARGV[2] only when the stored
 * record's version equals ARGV[1] (0 when absent), and returns what is stored afterwards. Used for
 * the experiment state and the bandit's allocation.
 */
export const COMPARE_AND_SET_BY_VERSION = `
local current = redis.call('GET', KEYS[1])
local version = 0
if current then version = cjson.decode(current).version or 0 end
if version ~= tonumber(ARGV[1]) then return current end
redis.call('SET', KEYS[1], ARGV[2])
return ARGV[2]
`;

/** Parses a stored JSON value, naming the key when it is not what this router wrote. */
export function parseStored<T>(schema: z.ZodType<T>, raw: string, key: string): T {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error(`Redis key ${key} does not hold JSON (${raw.slice(0, 80)}); delete it or fix its writer`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new Error(
      `Redis key ${key} holds an unexpected value (${z.prettifyError(parsed.error).replaceAll("\n", "; ")}); delete it or fix its writer`,
    );
  }
  return parsed.data;
}

/** Reconnect quickly but not in a tight loop: 100 ms, 200 ms, … capped at 1 s. */
function retryDelay(attempt: number): number {
  return Math.min(attempt * 100, 1_000);
}

/** Assignments and experiment states in Redis. */
export class RedisStore implements RouterStore {
  /** The ioredis client (exposed for readiness checks and tests). */
  readonly client: Redis;
  /** Prefix of every key (the bandit store shares it). */
  readonly keyPrefix: string;
  private readonly ttlSeconds: number | undefined;
  private readonly ownsClient: boolean;

  constructor(options: RedisStoreOptions) {
    if ((options.url === undefined) === (options.client === undefined)) {
      throw new Error("RedisStore needs exactly one of `url` or `client`");
    }
    if (
      options.ttlSeconds !== undefined &&
      !(Number.isInteger(options.ttlSeconds) && options.ttlSeconds > 0)
    ) {
      throw new RangeError(`ttlSeconds must be a positive integer, got ${String(options.ttlSeconds)}`);
    }
    this.keyPrefix = options.keyPrefix ?? "llmab:";
    this.ttlSeconds = options.ttlSeconds;
    this.ownsClient = options.client === undefined;
    this.client =
      options.client ??
      new Redis(options.url as string, {
        // Commands sent while the first connection is being made wait for it (bounded by the
        // command timeout); from the first `ready` on they fail at once when Redis is gone.
        enableOfflineQueue: true,
        maxRetriesPerRequest: 0,
        commandTimeout: options.commandTimeoutMs ?? 250,
        retryStrategy: retryDelay,
      });
    if (this.ownsClient) {
      this.client.once("ready", () => {
        this.client.options.enableOfflineQueue = false;
      });
    }
    const onError = options.onConnectionError ?? (() => {});
    // Without a listener ioredis prints every reconnect failure to the console.
    this.client.on("error", onError);
  }

  /** Resolves once the client can send commands; rejects after `timeoutMs` (default 5000). */
  async ready(timeoutMs = 5_000): Promise<void> {
    if (this.client.status === "ready") return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off("ready", onReady);
        reject(new Error(`Redis not ready after ${timeoutMs} ms (client status ${this.client.status})`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once("ready", onReady);
    });
  }

  /** The Redis key of a unit's assignment. */
  assignmentKey(namespace: string, unitId: string): string {
    return `${this.keyPrefix}assign:${namespace}:${unitId}`;
  }

  /** The Redis key of an experiment's runtime state. */
  stateKey(experiment: string): string {
    return `${this.keyPrefix}state:${experiment}`;
  }

  async get(namespace: string, unitId: string): Promise<StoredAssignment | undefined> {
    const key = this.assignmentKey(namespace, unitId);
    const raw = await this.client.get(key);
    return raw === null ? undefined : parseStored(storedAssignmentSchema, raw, key);
  }

  async claim(namespace: string, unitId: string, propose: () => StoredAssignment): Promise<ClaimResult> {
    const key = this.assignmentKey(namespace, unitId);
    const proposal = propose();
    const value = JSON.stringify(proposal);
    const previous =
      this.ttlSeconds === undefined
        ? await this.client.set(key, value, "NX", "GET")
        : await this.client.set(key, value, "EX", this.ttlSeconds, "NX", "GET");
    if (previous === null) return { assignment: proposal, created: true, durable: true };
    return { assignment: parseStored(storedAssignmentSchema, previous, key), created: false, durable: true };
  }

  async readState(experiment: string): Promise<StateRecord | undefined> {
    const key = this.stateKey(experiment);
    const raw = await this.client.get(key);
    return raw === null ? undefined : parseStored(stateRecordSchema, raw, key);
  }

  async writeState(experiment: string, next: StateRecord): Promise<StateRecord> {
    checkStateRecord(next);
    const key = this.stateKey(experiment);
    const stored = await this.client.eval(
      COMPARE_AND_SET_BY_VERSION,
      1,
      key,
      String(next.version - 1),
      JSON.stringify(next),
    );
    if (stored === null) return INITIAL_STATE;
    if (typeof stored !== "string") throw new Error(`unexpected reply to the state write of ${key}`);
    return parseStored(stateRecordSchema, stored, key);
  }

  /** Closes the client if the store created it (QUIT, or a hard disconnect when Redis is gone). */
  async close(): Promise<void> {
    if (!this.ownsClient) return;
    try {
      if (this.client.status === "ready") await this.client.quit();
      else this.client.disconnect();
    } catch {
      this.client.disconnect();
    }
  }
}
