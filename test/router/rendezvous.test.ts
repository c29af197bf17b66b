import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashString32, keyHash, memberHash, pickRendezvous } from "../../router/rendezvous.ts";

const members = (ids: readonly string[]) => ids.map((id) => ({ id, rendezvousHash: memberHash(id) }));
const replicaIds = fc.uniqueArray(
  fc.ipV4().map((ip) => `http://${ip}:8000`),
  { minLength: 2, maxLength: 12 },
);

describe("rendezvous hashing", () => {
  it("picks the same replica for a key every time, whatever the order of the replicas", () => {
    fc.assert(
      fc.property(replicaIds, fc.string(), (ids, key) => {
        const first = pickRendezvous(keyHash(key), members(ids))?.id;
        expect(pickRendezvous(keyHash(key), members([...ids].reverse()))?.id).toBe(first);
      }),
    );
  });

  it("moves only the conversations of a replica that is gone", () => {
    fc.assert(
      fc.property(
        replicaIds,
        fc.array(fc.string(), { minLength: 1, maxLength: 50 }),
        fc.nat(),
        (ids, keys, n) => {
          const gone = ids[n % ids.length];
          const before = members(ids);
          const after = members(ids.filter((id) => id !== gone));
          for (const key of keys) {
            const was = pickRendezvous(keyHash(key), before)?.id;
            const now = pickRendezvous(keyHash(key), after)?.id;
            if (was !== gone) expect(now).toBe(was);
          }
        },
      ),
    );
  });

  it("sends a new replica only conversations it takes from others, about 1/(n + 1) of them", () => {
    const ids = ["a", "b", "c", "d"].map((name) => `http://${name}.chat-8b:8000`);
    const keys = Array.from({ length: 20_000 }, (_, i) => `conversation-${i}`);
    const before = members(ids);
    const after = members([...ids, "http://e.chat-8b:8000"]);
    let moved = 0;
    for (const key of keys) {
      const was = pickRendezvous(keyHash(key), before)?.id;
      const now = pickRendezvous(keyHash(key), after)?.id;
      if (now !== was) {
        expect(now).toBe("http://e.chat-8b:8000");
        moved++;
      }
    }
    // Binomial(20000, 1/5): sd ≈ 57, so ±300 is more than 5 sd.
    expect(Math.abs(moved - 4000)).toBeLessThan(300);
  });

  it("spreads conversations evenly over the replicas", () => {
    const ids = Array.from({ length: 5 }, (_, i) => `http://10.0.0.${i + 1}:8000`);
    const counts = new Map<string, number>();
    for (let i = 0; i < 50_000; i++) {
      const id = pickRendezvous(keyHash(`user-${i}`), members(ids))?.id as string;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    // Binomial(50000, 1/5): sd ≈ 89; within 5 sd of 10,000 each.
    for (const id of ids) expect(Math.abs((counts.get(id) ?? 0) - 10_000)).toBeLessThan(450);
  });

  it("skips replicas the caller rules out and finds nothing in an empty set", () => {
    const set = members(["x", "y"]);
    const first = pickRendezvous(keyHash("k"), set);
    const other = pickRendezvous(keyHash("k"), set, (member) => member !== first);
    expect(other).toBeDefined();
    expect(other).not.toBe(first);
    expect(pickRendezvous(keyHash("k"), [])).toBeUndefined();
  });

  it("hashes strings to 32-bit unsigned integers that depend on the seed", () => {
    expect(hashString32("abc")).toBe(hashString32("abc"));
    expect(hashString32("abc", 1)).not.toBe(hashString32("abc", 2));
    fc.assert(
      fc.property(fc.string(), (text) => {
        const h = hashString32(text);
        expect(Number.isInteger(h) && h >= 0 && h < 2 ** 32).toBe(true);
      }),
    );
  });
});
