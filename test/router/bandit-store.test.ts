/**
 * The bandit stores, memory and Redis (a real redis-server), held to one contract: a unit's reward
 * counts once per window and in one step, statistics add up, the allocation is compare-and-set on
 * its version.
 */
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { initialAllocation } from "../../router/bandit/allocation.ts";
import { RedisBanditStore } from "../../router/bandit/redis-store.ts";
import { type BanditStore, MemoryBanditStore } from "../../router/bandit/store.ts";
import { redisPerFile } from "../helpers/redis-server.ts";

const redis = redisPerFile();
const clients: Redis[] = [];
afterAll(() => {
  for (const client of clients) client.disconnect();
});

const stores: [string, () => BanditStore][] = [
  ["memory", () => new MemoryBanditStore()],
  [
    "redis",
    () => {
      const client = new Redis(redis().url);
      clients.push(client);
      return new RedisBanditStore(client);
    },
  ],
];

const ARMS = ["control", "treatment"];

describe.each(stores)("the %s bandit store", (_name, make) => {
  it("counts a unit's reward once, and the totals and statistics add up", async () => {
    const store = make();
    expect(await store.recordReward("ns", "u1", 60, "control", 1)).toBe(1);
    expect(await store.recordReward("ns", "u1", 60, "control", 1)).toBeUndefined();
    expect(await store.recordReward("ns", "u2", 60, "treatment", 0.5)).toBe(2);
    expect(await store.recordReward("ns", "u3", 60, "treatment", 2)).toBe(3);
    expect(await store.readStats("ns", ARMS)).toEqual([
      { n: 1, sum: 1, sumSquares: 1 },
      { n: 2, sum: 2.5, sumSquares: 4.25 },
    ]);
    // Another namespace (another salt or policy) starts from nothing.
    expect(await store.readStats("other", ARMS)).toEqual([
      { n: 0, sum: 0, sumSquares: 0 },
      { n: 0, sum: 0, sumSquares: 0 },
    ]);
  });

  it("stores an allocation only over the version before it, and returns what is stored", async () => {
    const store = make();
    expect(await store.readAllocation("ns")).toBeUndefined();
    const v1 = { ...initialAllocation(ARMS), version: 1, probabilities: { control: 0.3, treatment: 0.7 } };
    expect(await store.writeAllocation("ns", v1)).toEqual(v1);
    const rival = { ...v1, probabilities: { control: 0.9, treatment: 0.1 } };
    expect(await store.writeAllocation("ns", rival)).toEqual(v1);
    const v2 = { ...v1, version: 2, regret: 1.5 };
    expect(await store.writeAllocation("ns", v2)).toEqual(v2);
    expect(await store.readAllocation("ns")).toEqual(v2);
  });
});

describe("the memory bandit store's reward marks", () => {
  it("expire after the window", async () => {
    let now = 0;
    const store = new MemoryBanditStore(() => now);
    expect(await store.recordReward("ns", "u", 10, "control", 1)).toBe(1);
    expect(await store.recordReward("ns", "u", 10, "control", 1)).toBeUndefined();
    now = 10_001;
    expect(await store.recordReward("ns", "u", 10, "control", 1)).toBe(2);
  });
});
