/**
 * The bandit's shared state in Redis, next to the assignments (same client, same key prefix):
 *
 * - `<prefix>bandit:<namespace>:stats`, a hash with `<arm>:n`, `<arm>:sum`, `<arm>:sumsq` and
 *   `total`, incremented in one MULTI per reward so a reader never sees half a reward;
 * - `<prefix>bandit:<namespace>:rewarded:<unit>`, `SET NX EX`: the unit's reward was counted;
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

/** The bandit's state in Redis, shared by every router replica of the experiment. */
export class RedisBanditStore implements BanditStore {
  constructor(
    private readonly client: Redis,
    private readonly prefix = "llmab:",
  ) {}

  private key(namespace: string, what: string): string {
    return `${this.prefix}bandit:${namespace}:${what}`;
  }

  async claimReward(namespace: string, unit: string, ttlSeconds: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    return (await this.client.set(this.key(namespace, `rewarded:${unit}`), "1", "EX", ttl, "NX")) === "OK";
  }

  async addReward(namespace: string, arm: string, value: number): Promise<number> {
    const key = this.key(namespace, "stats");
    const replies = await this.client
      .multi()
      .hincrby(key, `${arm}:n`, 1)
      .hincrbyfloat(key, `${arm}:sum`, value)
      .hincrbyfloat(key, `${arm}:sumsq`, value * value)
      .hincrby(key, "total", 1)
      .exec();
    const last = replies?.[3];
    if (last === undefined || last[0] !== null) {
      throw last?.[0] ?? new Error(`the reward transaction on ${key} was discarded`);
    }
    return Number(last[1]);
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
