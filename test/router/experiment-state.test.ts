import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type ExperimentState,
  ExperimentStateWatcher,
  nextState,
  type StateAction,
} from "../../router/experiment-state.ts";
import { MemoryStore } from "../../router/store/memory-store.ts";
import { RedisStore } from "../../router/store/redis-store.ts";
import type { StateRecord, StateStore, StoreFailureKind } from "../../router/store/types.ts";
import { startRedis, type TestRedis } from "../helpers/redis-server.ts";

describe("nextState", () => {
  it.each<[ExperimentState, StateAction, ExperimentState]>([
    ["active", "pause", "paused"],
    ["active", "rollback", "rolled_back"],
    ["active", "resume", "active"],
    ["paused", "pause", "paused"],
    ["paused", "rollback", "rolled_back"],
    ["paused", "resume", "active"],
    ["rolled_back", "pause", "rolled_back"],
    ["rolled_back", "rollback", "rolled_back"],
    ["rolled_back", "resume", "active"],
  ])("takes %s through %s to %s", (from, action, to) => {
    expect(nextState(from, action)).toBe(to);
  });
});

function watcher(
  store: StateStore,
  extra: Partial<ConstructorParameters<typeof ExperimentStateWatcher>[0]> = {},
) {
  let clock = 10_000;
  return new ExperimentStateWatcher({ experiment: "exp", store, now: () => ++clock, ...extra });
}

describe("ExperimentStateWatcher", () => {
  it("is active before anything is written", async () => {
    const state = watcher(new MemoryStore());
    expect(state.current()).toEqual({ state: "active", version: 0, changedAt: 0 });
    await state.refresh();
    expect(state.current().state).toBe("active");
  });

  it("records who changed the state, why and when, and bumps the version", async () => {
    const state = watcher(new MemoryStore());
    const record = await state.apply("pause", { reason: "TtftP95Regression", actor: "alertmanager" });
    expect(record).toEqual({
      state: "paused",
      version: 1,
      changedAt: 10_001,
      reason: "TtftP95Regression",
      actor: "alertmanager",
    });
    expect(state.current()).toEqual(record);
  });

  it("keeps a rollback latched through a later pause until someone resumes", async () => {
    const store = new MemoryStore();
    const state = watcher(store);
    await state.apply("rollback", { reason: "ErrorRate" });
    const afterPause = await state.apply("pause", { reason: "TtftP95Regression" });
    expect(afterPause).toMatchObject({ state: "rolled_back", version: 1, reason: "ErrorRate" });
    expect((await state.apply("resume", { actor: "oncall" })).state).toBe("active");
  });

  it("shares a change with another replica on its next poll", async () => {
    const store = new MemoryStore();
    const [a, b] = [watcher(store), watcher(store)];
    await a.apply("pause");
    expect(b.current().state).toBe("active");
    await b.refresh();
    expect(b.current().state).toBe("paused");
  });

  it("polls every 500 ms by default, so a change reaches every replica within a second", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    try {
      const store = new MemoryStore();
      const changes: string[] = [];
      const replica = watcher(store, {
        onChange: (record, previous) => changes.push(`${previous.state}→${record.state}`),
      });
      await replica.start();
      await watcher(store).apply("rollback");
      await vi.advanceTimersByTimeAsync(500);
      expect(replica.current().state).toBe("rolled_back");
      expect(changes).toEqual(["active→rolled_back"]);
      replica.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it("lets only one of two simultaneous changes win and re-decides the other from it", async () => {
    const store = new MemoryStore();
    const [a, b] = [watcher(store), watcher(store)];
    const [paused, rolledBack] = await Promise.all([a.apply("pause"), b.apply("rollback")]);
    const final = await store.readState("exp");
    expect(final?.state).toBe("rolled_back");
    expect(final?.version).toBe(Math.max(paused.version, rolledBack.version));
  });

  it("keeps its state and counts the failure when the store cannot be read", async () => {
    const failures: StoreFailureKind[] = [];
    const store = new MemoryStore();
    let broken = false;
    const flaky: StateStore = {
      readState: async (experiment) => {
        if (broken) throw new Error("ECONNREFUSED");
        return store.readState(experiment);
      },
      writeState: (experiment, next) => store.writeState(experiment, next),
    };
    const state = watcher(flaky, {
      counters: { storeFailure: (kind) => failures.push(kind), unitMissing: () => {}, assignment: () => {} },
    });
    await state.apply("pause");
    broken = true;
    expect((await state.refresh()).state).toBe("paused");
    expect(failures).toEqual(["state_read"]);
  });

  it("keeps a known rollback when the store lost its data, and can still resume it", async () => {
    let backing = new MemoryStore();
    const store: StateStore = {
      readState: (experiment) => backing.readState(experiment),
      writeState: (experiment, next) => backing.writeState(experiment, next),
    };
    const state = watcher(store);
    await state.apply("rollback");
    backing = new MemoryStore(); // Redis restarted without persistence
    await state.refresh();
    expect(state.current().state).toBe("rolled_back");
    expect(await state.apply("resume")).toMatchObject({ state: "active", version: 1 });
    expect((await backing.readState("exp"))?.state).toBe("active");
  });

  it("throws, naming the experiment and action, when the state never settles", async () => {
    let version = 0;
    const contended: StateStore = {
      readState: async () => ({ state: "active", version, changedAt: 0 }),
      // Another writer always got there first.
      writeState: async (): Promise<StateRecord> => ({ state: "active", version: ++version, changedAt: 0 }),
    };
    await expect(watcher(contended).apply("pause")).rejects.toThrow(
      "could not pause experiment exp: its state kept changing under 5 attempts; retry",
    );
  });

  it("rejects a poll interval that is not a positive number", () => {
    expect(() => watcher(new MemoryStore(), { pollIntervalMs: 0 })).toThrow(
      "pollIntervalMs must be a positive number, got 0",
    );
  });
});

describe("ExperimentStateWatcher over Redis", () => {
  let redis: TestRedis;
  const stores: RedisStore[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await redis?.stop();
  });

  it("shares pause, rollback and resume between replicas with separate connections", async () => {
    const [storeA, storeB] = [new RedisStore({ url: redis.url }), new RedisStore({ url: redis.url })];
    stores.push(storeA, storeB);
    const [a, b] = [watcher(storeA), watcher(storeB)];
    await a.apply("pause", { actor: "oncall" });
    await b.refresh();
    expect(b.current()).toMatchObject({ state: "paused", actor: "oncall" });
    await b.apply("rollback");
    await a.apply("pause");
    await a.refresh();
    expect(a.current().state).toBe("rolled_back");
    await a.apply("resume");
    await b.refresh();
    expect(b.current()).toMatchObject({ state: "active", version: 3 });
  });
});
