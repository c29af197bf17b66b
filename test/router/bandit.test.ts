/**
 * The bandit's parts without HTTP: the shared allocation (versions, seeds, direction), the memory
 * store's compare-and-set and reward marks, and a Bandit's matching and batching of rewards.
 */
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import {
  type BanditPolicy,
  initialAllocation,
  learnedReward,
  nextAllocation,
  unitDraw,
  updateDue,
} from "../../router/bandit/allocation.ts";
import { Bandit, type BanditReporter, type RewardMatch } from "../../router/bandit/bandit.ts";
import { MemoryBanditStore } from "../../router/bandit/store.ts";

const POLICY: BanditPolicy = {
  reward: "resolution_rate",
  floor: 0.05,
  burnIn: 10,
  updateEvery: 5,
  maxUpdateInterval: "1m",
  maxUpdateIntervalSeconds: 60,
  rewardWindow: "1h",
  rewardWindowSeconds: 3600,
  draws: 2000,
  arms: ["control", "treatment"],
  kind: "binary",
  direction: "increase",
};

describe("the shared allocation", () => {
  it("starts as the equal split, version 0", () => {
    expect(initialAllocation(["a", "b", "c"]).probabilities).toEqual({ a: 1 / 3, b: 1 / 3, c: 1 / 3 });
  });

  it("is reproducible: the same version from the same statistics gives the same probabilities", () => {
    const stats = [
      { n: 40, sum: 20, sumSquares: 20 },
      { n: 40, sum: 28, sumSquares: 28 },
    ];
    const a = nextAllocation(POLICY, "exp:abc", initialAllocation(POLICY.arms), stats, 80, 1);
    const b = nextAllocation(POLICY, "exp:abc", initialAllocation(POLICY.arms), stats, 80, 2);
    expect(a.probabilities).toEqual(b.probabilities);
    expect(a.version).toBe(1);
    expect(a.probabilities.treatment).toBeGreaterThan(0.8);
    // Posterior means under the uniform prior: (1 + s) / (2 + n).
    expect(a.posteriorMeans).toEqual({ control: 21 / 42, treatment: 29 / 42 });
    expect(a.regret).toBeGreaterThan(0);
  });

  it("stays equal during burn-in and reports no regret yet", () => {
    const stats = [
      { n: 9, sum: 0, sumSquares: 0 },
      { n: 30, sum: 30, sumSquares: 30 },
    ];
    const next = nextAllocation(POLICY, "ns", initialAllocation(POLICY.arms), stats, 39, 0);
    expect(next.probabilities).toEqual({ control: 0.5, treatment: 0.5 });
    expect(next.regret).toBeNull();
  });

  it("learns a lower-is-better metric as its complement and reports means in the metric's units", () => {
    const policy: BanditPolicy = { ...POLICY, direction: "decrease" };
    expect(learnedReward(policy, 1)).toBe(0);
    expect(learnedReward({ kind: "continuous", direction: "decrease" }, 2.5)).toBe(-2.5);
    // Learned rewards: control escalates 30 of 40 (learned 10 successes), treatment 10 of 40.
    const stats = [
      { n: 40, sum: 10, sumSquares: 10 },
      { n: 40, sum: 30, sumSquares: 30 },
    ];
    const next = nextAllocation(policy, "ns", initialAllocation(policy.arms), stats, 80, 0);
    expect(next.probabilities.treatment).toBeGreaterThan(0.9);
    expect(next.posteriorMeans.control).toBeCloseTo(1 - 11 / 42, 12);
  });

  it("is due after updateEvery new rewards, or when old and any reward arrived", () => {
    const current = { ...initialAllocation(POLICY.arms), version: 3, rewards: 10, updatedAt: 1_000 };
    expect(updateDue(POLICY, current, 14, 2_000)).toBe(false);
    expect(updateDue(POLICY, current, 15, 2_000)).toBe(true);
    expect(updateDue(POLICY, current, 11, 61_000)).toBe(true);
    expect(updateDue(POLICY, current, 10, 61_000)).toBe(false);
    // The initial equal split is not "old": only the count makes the first update due.
    expect(updateDue(POLICY, initialAllocation(POLICY.arms), 1, 61_000)).toBe(false);
  });

  it("draws each unit from a hash that is uniform on [0, 1)", () => {
    const draws = Array.from({ length: 20_000 }, (_, i) => unitDraw("salt", `u${i}`));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const below = draws.filter((u) => u < 0.3).length;
    // Binomial(20,000, 0.3): sd 64.8.
    expect(Math.abs(below - 6000)).toBeLessThan(4 * 64.8);
  });
});

const ACTIVE = { state: { state: "active", changedAt: 0 } };

function recorder() {
  const rewards: [string | undefined, RewardMatch][] = [];
  let updates = 0;
  const reporter: BanditReporter = {
    allocation: () => {},
    reward: (variant, match) => void rewards.push([variant, match]),
    update: () => void updates++,
  };
  return { reporter, rewards, updates: () => updates };
}

describe("a bandit", () => {
  it("learns in-window rewards, batches updates every updateEvery, and ignores late or unknown ones", async () => {
    let now = 1_000_000;
    const store = new MemoryBanditStore(() => now);
    const { reporter, rewards, updates } = recorder();
    const bandit = new Bandit({
      policy: { ...POLICY, burnIn: 2 },
      namespace: "ns",
      store,
      reporter,
      logger: pino({ level: "silent" }),
      refreshMs: 0,
      now: () => now,
    });
    await bandit.start();
    for (let i = 0; i < 4; i++) {
      await bandit.observe({ ...ACTIVE, unit: `c${i}`, arm: "control", firstAssignedAt: now, value: 0 });
      expect(
        await bandit.observe({ ...ACTIVE, unit: `t${i}`, arm: "treatment", firstAssignedAt: now, value: 1 }),
      ).toBe("in_window");
    }
    // 8 rewards with updateEvery 5: one update, at the 5th.
    expect(updates()).toBe(1);
    expect(bandit.current().version).toBe(1);
    expect(bandit.current().rewards).toBe(5);
    expect(
      await bandit.observe({ ...ACTIVE, unit: "t0", arm: "treatment", firstAssignedAt: now, value: 1 }),
    ).toBe("duplicate");
    expect(
      await bandit.observe({ ...ACTIVE, unit: "x", arm: undefined, firstAssignedAt: undefined, value: 1 }),
    ).toBe("unassigned");
    now += 3600_001;
    expect(
      await bandit.observe({
        ...ACTIVE,
        unit: "late",
        arm: "control",
        firstAssignedAt: now - 3600_001,
        value: 1,
      }),
    ).toBe("late");
    // While paused control serves everyone; after a resume, units assigned before it are not learned.
    const paused = { state: { state: "paused", changedAt: now } };
    expect(
      await bandit.observe({ ...paused, unit: "p1", arm: "control", firstAssignedAt: now, value: 1 }),
    ).toBe("paused");
    const resumed = { state: { state: "active", changedAt: now } };
    expect(
      await bandit.observe({ ...resumed, unit: "p2", arm: "control", firstAssignedAt: now - 1, value: 1 }),
    ).toBe("paused");
    expect(rewards.filter(([, m]) => m === "in_window")).toHaveLength(8);
    expect((await store.readStats("ns", POLICY.arms)).map((s) => s.n)).toEqual([4, 4]);
    bandit.stop();
  });

  it("adopts a newer allocation another replica stored, and keeps its own when the store fails", async () => {
    const store = new MemoryBanditStore();
    const make = () =>
      new Bandit({
        policy: POLICY,
        namespace: "ns",
        store,
        reporter: recorder().reporter,
        logger: pino({ level: "silent" }),
        refreshMs: 0,
      });
    const [a, b] = [make(), make()];
    await a.start();
    await b.start();
    const v1 = {
      ...initialAllocation(POLICY.arms),
      version: 1,
      probabilities: { control: 0.2, treatment: 0.8 },
    };
    await store.writeAllocation("ns", v1);
    await b.beforeNewUnit();
    expect(b.current().probabilities).toEqual({ control: 0.2, treatment: 0.8 });

    store.readAllocation = () => Promise.reject(new Error("down"));
    await a.beforeNewUnit();
    expect(a.current().version).toBe(0);
    store.recordReward = () => Promise.reject(new Error("down"));
    expect(
      await a.observe({ ...ACTIVE, unit: "u", arm: "control", firstAssignedAt: Date.now(), value: 1 }),
    ).toBe("unrecorded");
    a.stop();
    b.stop();
  });
});
