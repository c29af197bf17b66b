import { describe, expect, it } from "vitest";
import { Assigner } from "../../router/assigner.ts";
import { ExperimentStateWatcher } from "../../router/experiment-state.ts";
import { bucketOf } from "../../router/hash.ts";
import { MemoryStore } from "../../router/store/memory-store.ts";
import { assignmentNamespace, type RouterCounters } from "../../router/store/types.ts";
import { extraVariant, routerSpec } from "./router-spec.ts";

function countingCounters() {
  const seen = { missing: 0, assignments: [] as string[] };
  const counters: RouterCounters = {
    storeFailure: () => {},
    unitMissing: () => {
      seen.missing += 1;
    },
    assignment: (variant) => seen.assignments.push(variant),
  };
  return { counters, seen };
}

const ids = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

describe("Assigner.decide", () => {
  it("serves a request without a unit id by control, without an exposure, and counts it", async () => {
    const { counters, seen } = countingCounters();
    const assigner = new Assigner({ spec: routerSpec(), store: new MemoryStore(), counters });
    expect(await assigner.decide(undefined, 5_000)).toEqual({
      experiment: "support-bot-policy-prompt",
      variant: "control",
      assigned: "control",
      exposure: false,
      firstAssignedAt: 5_000,
      allocationPercent: 10,
      bucket: undefined,
      source: "unit_missing",
      state: "active",
    });
    expect(seen).toEqual({ missing: 1, assignments: [] });
  });

  it("places a new unit by its hash, stores it, and counts one assignment per unit", async () => {
    const { counters, seen } = countingCounters();
    const store = new MemoryStore();
    const spec = routerSpec();
    const assigner = new Assigner({ spec, store, counters });
    const first = await assigner.decide("conv-1", 1_000);
    const bucket = bucketOf(spec.salt, "conv-1");
    expect(first).toMatchObject({ exposure: true, source: "hash", bucket, firstAssignedAt: 1_000 });
    expect(first.variant).toBe(bucket < 1_000 ? "treatment" : "control");
    const second = await assigner.decide("conv-1", 2_000);
    expect(second).toMatchObject({ variant: first.variant, source: "stored", firstAssignedAt: 1_000 });
    expect(seen.assignments).toEqual([first.variant]);
    expect(await store.get(assignmentNamespace(spec.name, spec.salt), "conv-1")).toEqual({
      variant: first.variant,
      firstAssignedAt: 1_000,
      allocationPercent: 10,
      bucket,
    });
  });

  it("keeps every conversation's variant over a 10 % → 50 % ramp and gives new units the new percent", async () => {
    const store = new MemoryStore();
    const at10 = new Assigner({ spec: routerSpec([["rollout", "treatmentPercent"], 10]), store });
    const at50 = new Assigner({ spec: routerSpec([["rollout", "treatmentPercent"], 50]), store });
    const early = ids("early", 2_000);
    const before = await Promise.all(early.map((id) => at10.decide(id, 1)));
    const after = await Promise.all(early.map((id) => at50.decide(id, 2)));
    expect(after.map((decision) => decision.variant)).toEqual(before.map((decision) => decision.variant));
    expect(after.every((decision) => decision.allocationPercent === 10 && decision.source === "stored")).toBe(
      true,
    );

    const late = await Promise.all(ids("late", 2_000).map((id) => at50.decide(id, 3)));
    const treated = late.filter((decision) => decision.variant === "treatment").length;
    expect(Math.abs(treated - 1_000)).toBeLessThan(5 * Math.sqrt(2_000 * 0.25));
    expect(late.every((decision) => decision.allocationPercent === 50)).toBe(true);
  });

  it.each(["pause", "rollback"] as const)(
    "serves control while the experiment is under %s, records the state, and restores the variant on resume",
    async (action) => {
      const store = new MemoryStore();
      const spec = routerSpec([["rollout", "treatmentPercent"], 100]);
      const state = new ExperimentStateWatcher({ experiment: spec.name, store });
      const assigner = new Assigner({ spec, store, state });
      expect((await assigner.decide("conv-1", 1)).variant).toBe("treatment");
      await state.apply(action);
      const held = await assigner.decide("conv-1", 2);
      expect(held).toMatchObject({
        variant: "control",
        assigned: "treatment",
        exposure: true,
        state: action === "pause" ? "paused" : "rolled_back",
      });
      await state.apply("resume");
      expect(await assigner.decide("conv-1", 3)).toMatchObject({ variant: "treatment", state: "active" });
    },
  );

  it("serves control in shadow mode and names the treatment to mirror to", async () => {
    const spec = routerSpec([["rollout"], { mode: "shadow" }]);
    const assigner = new Assigner({ spec, store: new MemoryStore() });
    const decisions = await Promise.all(ids("conv", 200).map((id) => assigner.decide(id, 1)));
    expect(decisions.every((d) => d.variant === "control" && d.mirrorTo === "treatment")).toBe(true);
  });

  it("mirrors only units inside mirrorPercent, and none while paused", async () => {
    const store = new MemoryStore();
    const spec = routerSpec([["rollout"], { mode: "shadow", mirrorPercent: 25 }]);
    const state = new ExperimentStateWatcher({ experiment: spec.name, store });
    const assigner = new Assigner({ spec, store, state });
    for (const decision of await Promise.all(ids("conv", 400).map((id) => assigner.decide(id, 1)))) {
      expect(decision.mirrorTo).toBe(decision.bucket! < 2_500 ? "treatment" : undefined);
    }
    await state.apply("pause");
    const paused = await Promise.all(ids("conv", 400).map((id) => assigner.decide(id, 2)));
    expect(paused.some((decision) => decision.mirrorTo !== undefined)).toBe(false);
  });

  it("stores nothing for request units, each request being a new unit", async () => {
    const { counters, seen } = countingCounters();
    const store = new MemoryStore();
    const assigner = new Assigner({ spec: routerSpec([["unit"], "request"]), store, counters });
    expect((await assigner.decide("req-1", 1)).source).toBe("hash");
    expect((await assigner.decide("req-1", 2)).source).toBe("hash");
    expect(store.size).toBe(0);
    expect(seen.assignments).toHaveLength(2);
  });

  it("serves control to a unit stored under a variant the spec no longer has", async () => {
    const store = new MemoryStore();
    const spec = routerSpec();
    store.put(assignmentNamespace(spec.name, spec.salt), "conv-1", {
      variant: "retired-prompt",
      firstAssignedAt: 1,
      allocationPercent: 10,
      bucket: 5,
    });
    const decision = await new Assigner({ spec, store }).decide("conv-1", 2);
    expect(decision).toMatchObject({ variant: "control", assigned: "retired-prompt", source: "stored" });
  });

  it("splits the treatment percent equally among several treatments", async () => {
    const spec = routerSpec([["variants", "brief"], extraVariant], [["rollout", "treatmentPercent"], 60]);
    const assigner = new Assigner({ spec, store: new MemoryStore() });
    const counts = new Map<string, number>();
    for (const decision of await Promise.all(ids("conv", 6_000).map((id) => assigner.decide(id, 1)))) {
      counts.set(decision.variant, (counts.get(decision.variant) ?? 0) + 1);
    }
    for (const [variant, p] of [
      ["brief", 0.3],
      ["treatment", 0.3],
      ["control", 0.4],
    ] as const) {
      expect(Math.abs((counts.get(variant) ?? 0) - 6_000 * p)).toBeLessThan(
        5 * Math.sqrt(6_000 * p * (1 - p)),
      );
    }
  });

  it("gives the same unit the same variant in two router processes with separate stores", async () => {
    const spec = routerSpec([["rollout", "treatmentPercent"], 50]);
    const [a, b] = [
      new Assigner({ spec, store: new MemoryStore() }),
      new Assigner({ spec, store: new MemoryStore() }),
    ];
    for (const id of ids("conv", 500))
      expect((await a.decide(id, 1)).variant).toBe((await b.decide(id, 9)).variant);
  });
});
