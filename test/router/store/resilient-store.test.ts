import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Assigner } from "../../../router/assigner.ts";
import { MemoryStore } from "../../../router/store/memory-store.ts";
import { RedisStore } from "../../../router/store/redis-store.ts";
import { ResilientStore, type ResilientStoreOptions } from "../../../router/store/resilient-store.ts";
import type {
  RouterCounters,
  RouterStore,
  StateRecord,
  StoredAssignment,
  StoreFailureKind,
} from "../../../router/store/types.ts";
import { startRedis, type TestRedis } from "../../helpers/redis-server.ts";
import { routerSpec } from "../router-spec.ts";
import { assignmentOf, describeStoreContract, stateOf } from "./store-contract.ts";

/** A shared store that can be switched off, counting the calls that reach it. */
class FlakyStore implements RouterStore {
  readonly inner = new MemoryStore();
  down = false;
  calls = 0;

  private check(): void {
    this.calls += 1;
    if (this.down) throw new Error("connect ECONNREFUSED 127.0.0.1:6379");
  }
  async get(namespace: string, unitId: string) {
    this.check();
    return this.inner.get(namespace, unitId);
  }
  async claim(namespace: string, unitId: string, propose: () => StoredAssignment) {
    this.check();
    return this.inner.claim(namespace, unitId, propose);
  }
  async readState(experiment: string) {
    this.check();
    return this.inner.readState(experiment);
  }
  async writeState(experiment: string, next: StateRecord) {
    this.check();
    return this.inner.writeState(experiment, next);
  }
  async close() {}
}

/** Counters that remember what they were told. */
function recordingCounters() {
  const failures: StoreFailureKind[] = [];
  const assignments: string[] = [];
  let missing = 0;
  const counters: RouterCounters = {
    storeFailure: (kind) => failures.push(kind),
    unitMissing: () => {
      missing += 1;
    },
    assignment: (variant) => assignments.push(variant),
  };
  return { counters, failures, assignments, missing: () => missing };
}

function setup(overrides: Partial<ResilientStoreOptions> = {}) {
  const primary = new FlakyStore();
  const clock = { now: 1_000_000 };
  const recorded = recordingCounters();
  const logs: { level: string; details: Record<string, unknown>; message: string }[] = [];
  const store = new ResilientStore({
    primary,
    now: () => clock.now,
    counters: recorded.counters,
    logger: {
      warn: (details, message) => logs.push({ level: "warn", details, message }),
      info: (details, message) => logs.push({ level: "info", details, message }),
    },
    flushIntervalMs: 0,
    ...overrides,
  });
  return { primary, clock, store, logs, ...recorded };
}

describeStoreContract(
  "resilient (shared store up)",
  () => new ResilientStore({ primary: new MemoryStore() }),
);

describe("ResilientStore while the shared store is down", () => {
  it("assigns a new unit from its proposal, marks it not durable, counts the failure and queues the write", async () => {
    const { primary, store, failures } = setup();
    primary.down = true;
    const result = await store.claim("ns", "u-1", () => assignmentOf("treatment", 3));
    expect(result).toEqual({ assignment: assignmentOf("treatment", 3), created: true, durable: false });
    expect(failures).toEqual(["claim"]);
    expect(store.stats()).toEqual({ queued: 1, conflicts: 0, available: false });
    // The unit keeps its local assignment on its next turn.
    const again = await store.claim("ns", "u-1", () => assignmentOf("control", 3));
    expect(again).toEqual({ assignment: assignmentOf("treatment", 3), created: false, durable: false });
  });

  it("answers known units from the cache without asking the shared store", async () => {
    const { primary, store } = setup();
    await store.claim("ns", "u-1", () => assignmentOf("control"));
    const callsBefore = primary.calls;
    primary.down = true;
    expect(await store.claim("ns", "u-1", () => assignmentOf("treatment"))).toEqual({
      assignment: assignmentOf("control"),
      created: false,
      durable: true,
    });
    expect(await store.get("ns", "u-1")).toEqual(assignmentOf("control"));
    expect(primary.calls).toBe(callsBefore);
  });

  it("skips the shared store for retryAfterMs after a failure, still counting each operation it did not serve", async () => {
    const { primary, clock, store, failures } = setup({ retryAfterMs: 1_000 });
    primary.down = true;
    await store.claim("ns", "u-1", () => assignmentOf("control"));
    await store.claim("ns", "u-2", () => assignmentOf("control"));
    await store.get("ns", "u-3");
    expect(primary.calls).toBe(1);
    expect(failures).toEqual(["claim", "claim", "get"]);
    clock.now += 1_000;
    await store.claim("ns", "u-4", () => assignmentOf("control"));
    expect(primary.calls).toBe(2);
  });

  it("logs at most once per interval, with the failures since the previous line, and once when the store is back", async () => {
    const { primary, clock, store, logs } = setup({ retryAfterMs: 0, logIntervalMs: 10_000 });
    primary.down = true;
    for (let i = 0; i < 5; i++) {
      await store.claim("ns", `u-${i}`, () => assignmentOf("control"));
      clock.now += 1_000;
    }
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ level: "warn", details: { kind: "claim", failures: 1 } });
    clock.now += 6_000;
    await store.claim("ns", "u-late", () => assignmentOf("control"));
    expect(logs).toHaveLength(2);
    expect(logs[1]?.details).toMatchObject({ failures: 5, queued: 5 });
    expect(logs[1]?.message).toContain("assignment store unreachable");

    primary.down = false;
    await store.claim("ns", "u-back", () => assignmentOf("control"));
    expect(logs).toHaveLength(3);
    expect(logs[2]).toMatchObject({ level: "info", details: { queued: 6 } });
    expect(logs[2]?.message).toContain("reachable again");
  });

  it("stops queueing at maxQueued and counts the writes that stay local", async () => {
    const { primary, store, failures } = setup({ maxQueued: 2 });
    primary.down = true;
    for (const unit of ["a", "b", "c"]) await store.claim("ns", unit, () => assignmentOf("control"));
    expect(store.stats().queued).toBe(2);
    expect(failures.filter((kind) => kind === "queue_full")).toHaveLength(1);
  });
});

describe("ResilientStore catching up", () => {
  it("writes queued assignments when the shared store answers again", async () => {
    const { primary, clock, store } = setup();
    primary.down = true;
    await store.claim("ns", "u-1", () => assignmentOf("treatment", 1));
    await store.claim("ns", "u-2", () => assignmentOf("control", 2));
    primary.down = false;
    clock.now += 1_000;
    await store.claim("ns", "u-3", () => assignmentOf("control", 3));
    await store.flush();
    expect(await primary.inner.get("ns", "u-1")).toEqual(assignmentOf("treatment", 1));
    expect(await primary.inner.get("ns", "u-2")).toEqual(assignmentOf("control", 2));
    expect(store.stats()).toEqual({ queued: 0, conflicts: 0, available: true });
    expect((await store.claim("ns", "u-1", () => assignmentOf("control"))).durable).toBe(true);
  });

  it("adopts the shared assignment when another replica stored a different one during the outage", async () => {
    const { primary, store } = setup();
    primary.down = true;
    await store.claim("ns", "u-1", () => assignmentOf("control", 1, 2_000));
    // Another replica, still connected, assigned the unit first.
    await primary.inner.claim("ns", "u-1", () => assignmentOf("treatment", 1, 1_500));
    primary.down = false;
    expect(await store.flush()).toBe(1);
    expect(store.stats().conflicts).toBe(1);
    expect(await store.get("ns", "u-1")).toEqual(assignmentOf("treatment", 1, 1_500));
  });

  it("keeps queued writes and counts a flush that fails again", async () => {
    const { primary, store, failures } = setup();
    primary.down = true;
    await store.claim("ns", "u-1", () => assignmentOf("control"));
    expect(await store.flush()).toBe(0);
    expect(store.stats().queued).toBe(1);
    expect(failures).toEqual(["claim", "flush"]);
  });

  it("retries queued writes on its timer", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const { primary, clock, store } = setup({ flushIntervalMs: 1_000 });
      primary.down = true;
      await store.claim("ns", "u-1", () => assignmentOf("control"));
      primary.down = false;
      clock.now += 1_000;
      await vi.advanceTimersByTimeAsync(1_000);
      await store.flush(); // joins the run the timer started, if it is still going
      expect(await primary.inner.get("ns", "u-1")).toEqual(assignmentOf("control"));
      await store.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("ResilientStore state", () => {
  it("serves the last known state while the shared store is down", async () => {
    const { primary, store, failures } = setup();
    await store.writeState("exp", stateOf("paused", 1));
    primary.down = true;
    expect(await store.readState("exp")).toEqual(stateOf("paused", 1));
    expect(failures).toEqual(["state_read"]);
  });

  it("applies a state change locally during an outage and writes it when the store returns", async () => {
    const { primary, clock, store } = setup();
    primary.down = true;
    expect(await store.writeState("exp", stateOf("rolled_back", 1))).toEqual(stateOf("rolled_back", 1));
    expect(await store.readState("exp")).toEqual(stateOf("rolled_back", 1));
    primary.down = false;
    clock.now += 1_000;
    expect(await store.flush()).toBe(1);
    expect(await primary.inner.readState("exp")).toEqual(stateOf("rolled_back", 1));
  });

  it("keeps the shared state when it changed during the outage", async () => {
    const { primary, store } = setup();
    primary.down = true;
    await store.writeState("exp", stateOf("paused", 1, 1));
    await primary.inner.writeState("exp", stateOf("rolled_back", 1, 2));
    primary.down = false;
    await store.flush();
    expect(await store.readState("exp")).toEqual(stateOf("rolled_back", 1, 2));
  });
});

describe("ResilientStore over a real Redis that goes away and comes back", () => {
  let redis: TestRedis;
  let redisStore: RedisStore;
  let store: ResilientStore;

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterEach(async () => {
    await store?.close();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it("keeps deciding through the outage, counts the failures, and writes the queued assignments after a restart", async () => {
    const recorded = recordingCounters();
    redisStore = new RedisStore({ url: redis.url });
    await redisStore.ready();
    store = new ResilientStore({ primary: redisStore, counters: recorded.counters, flushIntervalMs: 0 });
    const spec = routerSpec([["rollout", "treatmentPercent"], 50]);
    const assigner = new Assigner({ spec, store, counters: recorded.counters });

    const before = await assigner.decide("conv-before", 1_000);
    expect(before.source).toBe("hash");

    await redis.stop();
    const during = await Promise.all(
      Array.from({ length: 20 }, (_, i) => assigner.decide(`conv-during-${i}`, 2_000)),
    );
    expect(during.every((decision) => decision.source === "fallback" && decision.exposure)).toBe(true);
    expect((await assigner.decide("conv-before", 2_500)).variant).toBe(before.variant);
    expect(recorded.failures.filter((kind) => kind === "claim").length).toBeGreaterThan(0);
    expect(store.stats().queued).toBe(20);

    await redis.restart();
    await redisStore.ready(10_000);
    expect(await store.flush()).toBe(20);
    expect(store.stats().queued).toBe(0);
    for (const [i, decision] of during.entries()) {
      const stored = await redisStore.get(assigner.namespace, `conv-during-${i}`);
      expect(stored).toEqual({
        variant: decision.assigned,
        firstAssignedAt: 2_000,
        allocationPercent: 50,
        bucket: decision.bucket,
      });
    }
  });
});
