import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  afterEnd,
  afterStart,
  type ColdReason,
  coldReason,
  freshWarmth,
  type ReplicaWarmth,
  replicaState,
  type WarmupPolicy,
} from "../../router/warmth.ts";

const policy: WarmupPolicy = { requests: 20, seconds: 120, idleSeconds: 300 };

/** A replica first seen at t = 0 that served `served` requests, the last one ending at `lastActiveAt`. */
function seen(served: number, lastActiveAt: number, inFlight = 0): ReplicaWarmth {
  return { since: 0, served, inFlight, lastActiveAt };
}

describe("replica warmth", () => {
  it.each<[string, ReplicaWarmth, number, ColdReason | undefined]>([
    ["a replica seen just now is cold (young)", freshWarmth(0), 0, "young"],
    [
      "a replica younger than warmup.seconds is cold even after many requests",
      seen(500, 100),
      119.9,
      "young",
    ],
    ["a replica past its warm-up seconds with too few requests is cold", seen(19, 130), 130, "few_requests"],
    ["a replica past both thresholds and recently active is warm", seen(20, 130), 131, undefined],
    ["a replica idle exactly idleSeconds is still warm", seen(20, 130), 430, undefined],
    ["a replica idle longer than idleSeconds is cold again", seen(20, 130), 430.001, "idle"],
    ["a long request in flight keeps a replica from counting as idle", seen(20, 130, 1), 1000, undefined],
  ])("%s", (_, warmth, now, reason) => {
    expect(coldReason(warmth, policy, now)).toBe(reason);
    expect(replicaState(warmth, policy, now)).toBe(reason === undefined ? "warm" : "cold");
  });

  it("turns a fresh replica warm once it has both the requests and the age, then cold after idling", () => {
    const quick: WarmupPolicy = { requests: 3, seconds: 10, idleSeconds: 30 };
    let warmth = freshWarmth(100);
    const states: string[] = [];
    // One request per second, each lasting half a second.
    for (let t = 100; t < 115; t++) {
      states.push(replicaState(warmth, quick, t));
      warmth = afterEnd(afterStart(warmth, t), t + 0.5, true);
    }
    expect(states).toEqual([...Array(10).fill("cold"), ...Array(5).fill("warm")]);
    expect(replicaState(warmth, quick, 114.5 + 30.1)).toBe("cold");
    // The request that ends the idle spell is cold; the next one is warm again.
    warmth = afterEnd(afterStart(warmth, 145), 145.2, true);
    expect(replicaState(warmth, quick, 146)).toBe("warm");
  });

  it("does not count requests the replica never answered toward its warm-up", () => {
    let warmth = freshWarmth(0);
    for (let i = 0; i < 5; i++) warmth = afterEnd(afterStart(warmth, i), i + 0.1, false);
    expect(warmth.served).toBe(0);
    expect(warmth.inFlight).toBe(0);
    expect(coldReason(warmth, { requests: 1, seconds: 0, idleSeconds: 60 }, 10)).toBe("few_requests");
  });

  it("with a zero warm-up, is warm from the first request", () => {
    expect(replicaState(freshWarmth(5), { requests: 0, seconds: 0, idleSeconds: 60 }, 5)).toBe("warm");
  });

  it("never turns cold by serving more: once warm, another request keeps it warm", () => {
    fc.assert(
      fc.property(
        fc.record({
          requests: fc.nat(50),
          seconds: fc.nat(300),
          idleSeconds: fc.integer({ min: 1, max: 600 }),
        }),
        fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 80 }),
        (rules, gaps) => {
          let now = 0;
          let warmth = freshWarmth(0);
          for (const gap of gaps) {
            now += gap;
            const before = replicaState(warmth, rules, now);
            warmth = afterEnd(afterStart(warmth, now), now, true);
            // Right after a request nothing is idle, and age and count only grew.
            if (before === "warm") expect(replicaState(warmth, rules, now)).toBe("warm");
          }
        },
      ),
    );
  });
});
