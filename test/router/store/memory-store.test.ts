import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../../router/store/memory-store.ts";
import { assignmentOf, describeStoreContract } from "./store-contract.ts";

describeStoreContract("memory", () => new MemoryStore());

describe("MemoryStore", () => {
  it("drops units not used for a while when full, keeping units that were just seen", async () => {
    const store = new MemoryStore({ capacity: 6 });
    for (const unit of ["a", "b", "c"]) await store.claim("ns", unit, () => assignmentOf("control"));
    await store.get("ns", "a"); // a is now more recently used than b and c
    for (const unit of ["d", "e"]) await store.claim("ns", unit, () => assignmentOf("treatment"));
    expect(await store.get("ns", "b")).toBeUndefined();
    expect(await store.get("ns", "c")).toBeUndefined();
    expect((await store.get("ns", "a"))?.variant).toBe("control");
    expect((await store.get("ns", "d"))?.variant).toBe("treatment");
    expect((await store.get("ns", "e"))?.variant).toBe("treatment");
  });

  it.each([1, 2, 5, 1_000])("never holds more than its capacity of %i units", (capacity) => {
    const store = new MemoryStore({ capacity });
    for (let i = 0; i < capacity * 5 + 3; i++) {
      store.claimLocal("ns", `u-${i}`, () => assignmentOf("control"));
      store.peek("ns", `u-${i % 7}`);
      expect(store.size).toBeLessThanOrEqual(capacity);
    }
    expect(store.size).toBeGreaterThanOrEqual(Math.floor(capacity / 2));
  });

  it("replaces an assignment only through put, the cache's way to adopt the shared winner", () => {
    const store = new MemoryStore();
    store.claimLocal("ns", "u", () => assignmentOf("control"));
    store.put("ns", "u", assignmentOf("treatment"));
    expect(store.peek("ns", "u")?.variant).toBe("treatment");
  });

  it("defaults to a million units, the spec's maxStoredUnits default", () => {
    expect(new MemoryStore().capacity).toBe(1_000_000);
  });

  it.each([0, -1, 2.5])("rejects the capacity %s, naming it", (capacity) => {
    expect(() => new MemoryStore({ capacity })).toThrow(
      `memory store capacity must be an integer ≥ 1, got ${capacity}`,
    );
  });

  it("does not call propose for a unit it already has", async () => {
    const store = new MemoryStore();
    await store.claim("ns", "u", () => assignmentOf("control"));
    await store.claim("ns", "u", () => {
      throw new Error("propose must not be called");
    });
  });
});
