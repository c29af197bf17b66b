/** Behaviour every RouterStore shares, run against each implementation. */
import { describe, expect, it } from "vitest";
import type { RouterStore, StateRecord, StoredAssignment } from "../../../router/store/types.ts";

export function assignmentOf(variant: string, bucket = 1, firstAssignedAt = 1_000): StoredAssignment {
  return { variant, firstAssignedAt, allocationPercent: 10, bucket };
}

export function stateOf(state: StateRecord["state"], version: number, changedAt = 5_000): StateRecord {
  return { state, version, changedAt, reason: "test", actor: "vitest" };
}

/**
 * Registers the shared tests. `fresh()` gives a store with no data; `namespace` should be unique
 * per call so implementations that share a server do not see each other's keys.
 */
export function describeStoreContract(label: string, fresh: () => RouterStore): void {
  let counter = 0;
  const namespace = () => `contract-${label}-${Date.now()}-${++counter}:abcd`;

  describe(`${label} store contract`, () => {
    it("has no assignment for a unit it never saw", async () => {
      expect(await fresh().get(namespace(), "nobody")).toBeUndefined();
    });

    it("stores the first claim and returns it to every later claim, whatever they propose", async () => {
      const store = fresh();
      const ns = namespace();
      const first = await store.claim(ns, "u-1", () => assignmentOf("treatment", 7));
      expect(first).toEqual({ assignment: assignmentOf("treatment", 7), created: true, durable: true });
      const second = await store.claim(ns, "u-1", () => assignmentOf("control", 9_000, 2_000));
      expect(second).toEqual({ assignment: assignmentOf("treatment", 7), created: false, durable: true });
      expect(await store.get(ns, "u-1")).toEqual(assignmentOf("treatment", 7));
    });

    it("keeps namespaces apart, so a new salt starts from scratch", async () => {
      const store = fresh();
      const [a, b] = [namespace(), namespace()];
      await store.claim(a, "u-1", () => assignmentOf("treatment"));
      const other = await store.claim(b, "u-1", () => assignmentOf("control"));
      expect(other.created).toBe(true);
      expect(other.assignment.variant).toBe("control");
    });

    it("gives one winner to simultaneous claims of the same unit", async () => {
      const store = fresh();
      const ns = namespace();
      const results = await Promise.all(
        ["control", "treatment", "control", "treatment"].map((variant, i) =>
          store.claim(ns, "u-race", () => assignmentOf(variant, i)),
        ),
      );
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(new Set(results.map((result) => JSON.stringify(result.assignment))).size).toBe(1);
    });

    it("writes a state only on top of the version it follows", async () => {
      const store = fresh();
      const experiment = `state-${label}-${++counter}`;
      expect(await store.readState(experiment)).toBeUndefined();
      expect(await store.writeState(experiment, stateOf("paused", 1))).toEqual(stateOf("paused", 1));
      // A second writer that also read version 0 loses and learns the winner.
      expect(await store.writeState(experiment, stateOf("rolled_back", 1, 6_000))).toEqual(
        stateOf("paused", 1),
      );
      expect(await store.writeState(experiment, stateOf("rolled_back", 2, 6_000))).toEqual(
        stateOf("rolled_back", 2, 6_000),
      );
      expect(await store.readState(experiment)).toEqual(stateOf("rolled_back", 2, 6_000));
    });

    it("answers a write on a stale version of a never-written state with the initial state", async () => {
      const store = fresh();
      const written = await store.writeState(`state-${label}-${++counter}`, stateOf("paused", 3));
      expect(written).toEqual({ state: "active", version: 0, changedAt: 0 });
    });

    it("rejects a state record with an unknown state or version, naming the field", async () => {
      const store = fresh();
      await expect(
        store.writeState("x", { ...stateOf("paused", 1), state: "stopped" as "paused" }),
      ).rejects.toThrow(/state must be one of active, paused, rolled_back, got "stopped"/);
      await expect(store.writeState("x", stateOf("paused", 0))).rejects.toThrow(
        /version must be an integer ≥ 1, got 0/,
      );
    });
  });
}
