/**
 * The bandit's shared state in Redis, next to the assignments (same client, same key prefix):
 *
 * - `<prefix>bandit:<namespace>:stats`, a hash with `<arm>:n`, `<arm>:sum`, `<arm>:sumsq` and
 *   `total`;
 * - `<prefix>bandit:<namespace>:rewarded:<unit>`: the unit's reward was counted (expires after the
 *   reward window). Marking and counting are one Lua script, so a reader never sees half a reward
 *   and a timeout cannot leave a reward marked but uncounted;
 * - `<prefix>bandit:<namespace>:allocation`, the allocation as JSON, replaced by a Lua
 *   compare-and-set on its version (the same pattern as the experiment state).
 *
 * Errors propagate: the bandit (bandit.ts) keeps serving its last allocation and counts the reward
 * as not recorded, so a Redis outage never fails a request.
 */
import type { Redis } from "ioredis";
import { z } from "zod";
import type { ArmStats } from "../../stats/thompson.ts";
import { COMPARE_AND_SET_BY_VERSION, parseStored } from "../store/redis-store.ts";
import type { BanditAllocation } from "./allocation.ts";
import type { BanditStore } from "./store.ts";

const allocationSchema = z.object({
  version: z.int().min(0),
  probabilities: z.record(z.string(), z.number().min(0).max(1)),
  rewards: z.int().min(0),
  updatedAt: z.number(),
  posteriorMeans: z.record(z.string(), z.number()),
  regret: z.number().nullable(),
});

/**
 * KEYS[1] the unit's reward mark, KEYS[2] the stats hash; ARGV ttl, arm, value, value². Returns
 * nil when the unit was already rewarded, else the new total.
 */
const RECORD_REWARD_SCRIPT = `
if not redis.call('SET', KEYS[1], '1', 'EX', ARGV[1], 'NX') then return nil end
redis.call('HINCRBY', KEYS[2], ARGV[2] .. ':n', 1)
redis.call('HINCRBYFLOAT', KEYS[2], ARGV[2] .. ':sum', ARGV[3])
redis.call('HINCRBYFLOAT', KEYS[2], ARGV[2] .. ':sumsq', ARGV[4])
return redis.call('HINCRBY', KEYS[2], 'total', 1)
`;

/** The bandit's state in Redis, shared by every router replica of the experiment. */
export class RedisBanditStore implements BanditStore {
  constructor(
    private readonly client: Redis,
    private readonly prefix = "llmab:",
  ) {}

  private key(namespace: string, what: string): string {
    return `${this.prefix}bandit:${namespace}:${what}`;
  }

  async recordReward(
    namespace: string,
    unit: string,
    ttlSeconds: number,
    arm: string,
    value: number,
  ): Promise<number | undefined> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    const total = await this.client.eval(
      RECORD_REWARD_SCRIPT,
      2,
      this.key(namespace, `rewarded:${unit}`),
      this.key(namespace, "stats"),
      String(ttl),
      arm,
      String(value),
      String(value * value),
    );
    return total === null ? undefined : Number(total);
  }

  async readStats(namespace: string, arms: readonly string[]): Promise<ArmStats[]> {
    const hash = await this.client.hgetall(this.key(namespace, "stats"));
    const num = (field: string) => Number(hash[field] ?? 0);
    return arms.map((arm) => ({
      n: num(`${arm}:n`),
      sum: num(`${arm}:sum`),
      sumSquares: num(`${arm}:sumsq`),
    }));
  }

  async readAllocation(namespace: string): Promise<BanditAllocation | undefined> {
    const key = this.key(namespace, "allocation");
    const raw = await this.client.get(key);
    return raw === null ? undefined : parseStored(allocationSchema, raw, key);
  }

  async writeAllocation(namespace: string, next: BanditAllocation): Promise<BanditAllocation> {
    const key = this.key(namespace, "allocation");
    const stored = await this.client.eval(
      COMPARE_AND_SET_BY_VERSION,
      1,
      key,
      String(next.version - 1),
      JSON.stringify(next),
    );
    if (typeof stored !== "string") throw new Error(`unexpected reply to the allocation write of ${key}`);
    return parseStored(allocationSchema, stored, key);
  }
}
