/**
 * The simulator's latency model as pure functions with an injected clock: jitter, the cold-start
 * fade and its return after idle, the formulas' factors, the FIFO batch queue, and the prefix cache.
 */
import { describe, expect, it } from "vitest";
import { coldStartSchema, latencySchema } from "../../../local/scenario-schema.ts";
import {
  BatchQueue,
  ColdStartClock,
  coldFactor,
  firstTokenMs,
  jitterFactor,
  nextTokenMs,
} from "../../../local/simulator/latency-model.ts";
import { PrefixCache } from "../../../local/simulator/prefix-cache.ts";
import { answerToken, approxTokens, chatSegments } from "../../../local/simulator/text.ts";

const cold = coldStartSchema.parse({ factor: 3, requests: 10, seconds: 20, idleSeconds: 60 });
const latency = latencySchema.parse({
  ttftMs: 100,
  prefillMsPerToken: 0.5,
  itlMs: 20,
  jitter: 0.2,
  maxRunning: 2,
  decodeSlowdownPerRunning: 0.05,
});
const noFactors = { cold: 1, ttft: 1, itl: 1 };

describe("jitter", () => {
  it("is log-normal with median 1: exp(σ·z), 1 at z = 0 and symmetric in the log", () => {
    expect(jitterFactor(0.2, 0)).toBe(1);
    expect(jitterFactor(0.2, 1)).toBeCloseTo(Math.exp(0.2), 12);
    expect(jitterFactor(0.2, 1) * jitterFactor(0.2, -1)).toBeCloseTo(1, 12);
    expect(jitterFactor(0, 3)).toBe(1);
  });
});

describe("the cold-start fade", () => {
  it.each([
    { what: "just cold", requests: 0, seconds: 0, factor: 3 },
    { what: "half the requests and half the time", requests: 5, seconds: 10, factor: 2 },
    {
      what: "half the requests and three quarters of the time: the requests last longer",
      requests: 5,
      seconds: 15,
      factor: 2,
    },
    { what: "all requests but half the time: the time lasts longer", requests: 10, seconds: 10, factor: 2 },
    { what: "all the time but a fifth of the requests", requests: 2, seconds: 20, factor: 2.6 },
    { what: "both over", requests: 10, seconds: 20, factor: 1 },
    { what: "long after", requests: 50, seconds: 500, factor: 1 },
  ])("gives factor $factor when $what", ({ requests, seconds, factor }) => {
    const state = { coldSinceMs: 1_000, requestsSinceCold: requests };
    expect(coldFactor(cold, state, 1_000 + seconds * 1000)).toBeCloseTo(factor, 12);
  });

  it("is 1 from the start for a replica that started warm", () => {
    let clock = 0;
    const warm = new ColdStartClock(cold, false, clock);
    expect(warm.begin(clock)).toBe(1);
    clock += 30_000;
    expect(warm.begin(clock)).toBe(1);
  });

  it("counts each request's predecessors: the first request of a cold replica gets the whole factor", () => {
    const clock = new ColdStartClock(coldStartSchema.parse({ factor: 5, requests: 4, seconds: 0 }), true, 0);
    expect([1, 2, 3, 4, 5].map(() => clock.begin(0))).toEqual([5, 4, 3, 2, 1]);
  });

  it("fades with time since start even without requests", () => {
    const clock = new ColdStartClock(coldStartSchema.parse({ factor: 3, requests: 0, seconds: 10 }), true, 0);
    expect(clock.begin(5_000)).toBeCloseTo(2, 12);
    expect(clock.begin(10_000)).toBe(1);
  });

  it("makes a replica idle longer than idleSeconds cold again, with the fade restarting", () => {
    const clock = new ColdStartClock(cold, false, 0);
    expect(clock.begin(10_000)).toBe(1);
    clock.touch(20_000);
    // 60 s after the last activity is not yet idle "longer than" 60 s.
    expect(clock.begin(80_000)).toBe(1);
    expect(clock.begin(140_001)).toBe(3);
    expect(clock.current).toEqual({ coldSinceMs: 140_001, requestsSinceCold: 1 });
    expect(clock.begin(150_001)).toBeCloseTo(1 + 2 * Math.max(0.9, 0.5), 12);
  });

  it("does not count a long request's own time as idle", () => {
    const clock = new ColdStartClock(cold, false, 0);
    clock.begin(0);
    clock.touch(100_000);
    expect(clock.begin(130_000)).toBe(1);
  });
});

describe("the token times", () => {
  it("prefills only the uncached prompt tokens: (ttftMs + prefill × uncached) × jitter × cold × ttftFactor", () => {
    expect(firstTokenMs(latency, 400, 1, noFactors)).toBe(300);
    expect(firstTokenMs(latency, 0, 1, noFactors)).toBe(100);
    expect(firstTokenMs(latency, 400, 1.5, { cold: 2, ttft: 3, itl: 7 })).toBeCloseTo(300 * 1.5 * 2 * 3, 9);
  });

  it("slows each token with the running batch: itlMs × (1 + slowdown × running) × jitter × cold × itlFactor", () => {
    expect(nextTokenMs(latency, 0, 1, noFactors)).toBe(20);
    expect(nextTokenMs(latency, 10, 1, noFactors)).toBeCloseTo(30, 12);
    expect(nextTokenMs(latency, 10, 0.5, { cold: 2, ttft: 9, itl: 4 })).toBeCloseTo(30 * 0.5 * 2 * 4, 9);
  });
});

describe("the batch queue", () => {
  it("runs at most maxRunning and admits the waiting ones first in, first out as slots free", () => {
    const queue = new BatchQueue<string>(2);
    const admitted: string[] = [];
    for (const id of ["a", "b", "c", "d", "e"]) queue.enqueue(id, (item) => admitted.push(item));
    expect(admitted).toEqual(["a", "b"]);
    expect([queue.running, queue.waiting]).toEqual([2, 3]);
    queue.remove("b");
    expect(admitted).toEqual(["a", "b", "c"]);
    queue.remove("a");
    queue.remove("c");
    expect(admitted).toEqual(["a", "b", "c", "d", "e"]);
    expect([queue.running, queue.waiting]).toEqual([2, 0]);
  });

  it("drops a waiting request that is aborted without admitting it", () => {
    const queue = new BatchQueue<string>(1);
    const admitted: string[] = [];
    for (const id of ["a", "b", "c"]) queue.enqueue(id, (item) => admitted.push(item));
    queue.remove("b");
    expect(queue.waiting).toBe(1);
    queue.remove("a");
    expect(admitted).toEqual(["a", "c"]);
  });
});

describe("the prefix cache", () => {
  const system = { role: "system", content: "You are the support assistant of an online shop." };
  const user1 = { role: "user", content: "Where is my order 1234? It has been a week." };
  const answer = { role: "assistant", content: "It ships today." };
  const user2 = { role: "user", content: "Thanks, and can I change the address?" };
  const tokens = (messages: object[]) => chatSegments(messages).reduce((sum, s) => sum + s.tokens, 0);

  it("hits nothing for a new conversation and the first k messages of a seen one", () => {
    const cache = new PrefixCache();
    expect(cache.lookup(chatSegments([system, user1]))).toEqual({ queried: tokens([system, user1]), hit: 0 });
    const second = cache.lookup(chatSegments([system, user1, answer, user2]));
    expect(second).toEqual({ queried: tokens([system, user1, answer, user2]), hit: tokens([system, user1]) });
  });

  it("shares the system prompt between conversations but not what follows a different message", () => {
    const cache = new PrefixCache();
    cache.lookup(chatSegments([system, user1]));
    expect(cache.lookup(chatSegments([system, user2])).hit).toBe(tokens([system]));
    expect(cache.lookup(chatSegments([user2, system])).hit).toBe(0);
  });

  it("computes the last token again when the whole prompt is cached", () => {
    const cache = new PrefixCache();
    cache.lookup(chatSegments([system, user1]));
    expect(cache.lookup(chatSegments([system, user1])).hit).toBe(tokens([system, user1]) - 1);
  });

  it("forgets the least recently used prefixes beyond its capacity", () => {
    const cache = new PrefixCache(2);
    const one = chatSegments([{ role: "user", content: "one" }]);
    const two = chatSegments([{ role: "user", content: "two" }]);
    const three = chatSegments([{ role: "user", content: "three" }]);
    cache.remember(one);
    cache.remember(two);
    cache.remember(one);
    cache.remember(three);
    expect(cache.size).toBe(2);
    expect(cache.lookup(two).hit).toBe(0);
    expect(cache.lookup(one).hit).toBeGreaterThan(-1);
  });
});

describe("the simulated text", () => {
  it("counts about four characters per token, at least one", () => {
    expect(approxTokens("")).toBe(1);
    expect(approxTokens("abcd")).toBe(1);
    expect(approxTokens("abcde")).toBe(2);
    expect(approxTokens("x".repeat(400))).toBe(100);
  });

  it("answers with the same words for the same seed", () => {
    const words = (seed: number) => Array.from({ length: 8 }, (_, i) => answerToken(seed, i)).join("");
    expect(words(7)).toBe(words(7));
    expect(words(7)).not.toBe(words(8));
    expect(answerToken(7, 1).startsWith(" ")).toBe(true);
  });
});
