import { describe, expect, it } from "vitest";
import { trafficSchema } from "../../../local/scenario-schema.ts";
import {
  arrivalGaps,
  CHARS_PER_TOKEN,
  fillerText,
  pickByShare,
  planConversation,
} from "../../../local/traffic/conversations.ts";
import { normQuantile } from "../../../stats/distributions.ts";

const traffic = trafficSchema.parse({
  users: 50,
  turns: { min: 1, max: 5 },
  thinkSeconds: { min: 0.5, max: 2 },
  promptTokens: { min: 10, max: 40 },
  maxTokens: { min: 16, max: 64 },
  streamShare: 0.7,
});
const metrics = ["resolution_rate", "csat"];
// Two-sided bound that a correct sampler crosses once in a million runs: seeded draws stay put, so
// a failure means the sampler is wrong, not unlucky.
const Z = normQuantile(1 - 0.5e-6);

describe("planConversation", () => {
  it("draws the same conversation for the same seed and number", () => {
    for (const index of [0, 1, 17, 999]) {
      expect(planConversation(42, index, traffic, metrics)).toEqual(
        planConversation(42, index, traffic, metrics),
      );
    }
  });

  it("draws different conversations for different seeds and numbers", () => {
    const base = planConversation(42, 3, traffic, metrics);
    expect(planConversation(43, 3, traffic, metrics).turns).not.toEqual(base.turns);
    expect(planConversation(42, 4, traffic, metrics).turns).not.toEqual(base.turns);
    expect(planConversation(42, 4, traffic, metrics).outcomeNoise).not.toEqual(base.outcomeNoise);
  });

  it("names the conversation conv-<seed>-<n> and its user user-<k> with k below the user count", () => {
    for (let index = 0; index < 500; index++) {
      const plan = planConversation(9, index, traffic, metrics);
      expect(plan.id).toBe(`conv-9-${index}`);
      const k = Number(/^user-(\d+)$/.exec(plan.user)?.[1]);
      expect(k).toBeGreaterThanOrEqual(0);
      expect(k).toBeLessThan(traffic.users);
    }
  });

  it("keeps every draw inside the traffic model's ranges and reaches both ends of the whole-number ones", () => {
    const turnCounts = new Set<number>();
    const prompts = new Set<number>();
    for (let index = 0; index < 2000; index++) {
      const plan = planConversation(5, index, traffic, metrics);
      turnCounts.add(plan.turns.length);
      plan.turns.forEach((turn, i) => {
        prompts.add(turn.promptTokens);
        if (i === 0) expect(turn.thinkSeconds).toBe(0);
        else {
          expect(turn.thinkSeconds).toBeGreaterThanOrEqual(traffic.thinkSeconds.min);
          expect(turn.thinkSeconds).toBeLessThanOrEqual(traffic.thinkSeconds.max);
        }
        expect(Number.isInteger(turn.maxTokens)).toBe(true);
        expect(turn.maxTokens).toBeGreaterThanOrEqual(traffic.maxTokens.min);
        expect(turn.maxTokens).toBeLessThanOrEqual(traffic.maxTokens.max);
        expect(turn.content).toHaveLength(turn.promptTokens * CHARS_PER_TOKEN);
        expect(turn.route).toBeGreaterThanOrEqual(0);
        expect(turn.route).toBeLessThan(1);
      });
    }
    expect([...turnCounts].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(Math.min(...prompts)).toBe(traffic.promptTokens.min);
    expect(Math.max(...prompts)).toBe(traffic.promptTokens.max);
  });

  it("streams about streamShare of the turns", () => {
    let turns = 0;
    let streamed = 0;
    for (let index = 0; index < 3000; index++) {
      for (const turn of planConversation(11, index, traffic, metrics).turns) {
        turns++;
        if (turn.stream) streamed++;
      }
    }
    const p = traffic.streamShare;
    expect(Math.abs(streamed - turns * p)).toBeLessThan(Z * Math.sqrt(turns * p * (1 - p)));
  });

  it("draws outcome noise per metric that does not depend on the traffic model or the metric order", () => {
    const other = trafficSchema.parse({ turns: { min: 6, max: 9 }, promptTokens: { min: 100, max: 200 } });
    const plan = planConversation(3, 12, traffic, metrics);
    expect(planConversation(3, 12, other, [...metrics].reverse()).outcomeNoise).toEqual(plan.outcomeNoise);
    expect(Object.keys(plan.outcomeNoise).sort()).toEqual(["csat", "resolution_rate"]);
  });
});

describe("fillerText", () => {
  it.each([1, 2, 7, 30, 120])(
    "writes exactly %i tokens × 4 characters of words, not ending in a space",
    (tokens) => {
      let i = 0;
      const cycle = [0.1, 0.5, 0.9, 0.3, 0.7];
      const text = fillerText(tokens, () => cycle[i++ % cycle.length]!);
      expect(text).toHaveLength(tokens * CHARS_PER_TOKEN);
      expect(text).toMatch(/^[a-z][a-z .]*[a-z.]$/);
    },
  );
});

describe("arrivalGaps", () => {
  it("gives the same gaps for the same seed", () => {
    const a = arrivalGaps(8, 10);
    const b = arrivalGaps(8, 10);
    for (let i = 0; i < 100; i++) expect(a.next().value).toBe(b.next().value);
  });

  it("spaces arrivals exponentially with mean 1 / rate", () => {
    const rate = 6;
    const n = 20_000;
    const gaps = arrivalGaps(1, rate);
    let sum = 0;
    let underMean = 0;
    for (let i = 0; i < n; i++) {
      const gap = gaps.next().value;
      expect(gap).toBeGreaterThanOrEqual(0);
      sum += gap;
      if (gap < 1 / rate) underMean++;
    }
    // The exponential's sd equals its mean; P(gap < mean) = 1 - 1/e.
    expect(Math.abs(sum / n - 1 / rate)).toBeLessThan((Z * (1 / rate)) / Math.sqrt(n));
    const p = 1 - Math.exp(-1);
    expect(Math.abs(underMean - n * p)).toBeLessThan(Z * Math.sqrt(n * p * (1 - p)));
  });
});

describe("pickByShare", () => {
  it.each([
    { shares: [3, 1], u: 0, index: 0 },
    { shares: [3, 1], u: 0.7499, index: 0 },
    { shares: [3, 1], u: 0.75, index: 1 },
    { shares: [3, 1], u: 0.9999, index: 1 },
    { shares: [0.2, 0.3, 0.5], u: 0.45, index: 1 },
    { shares: [0, 1], u: 0, index: 1 },
    { shares: [1, 0], u: 0.999999999, index: 0 },
  ])("picks target $index for u = $u with shares $shares", ({ shares, u, index }) => {
    expect(pickByShare(shares, u)).toBe(index);
  });

  it("refuses targets that all have a zero share", () => {
    expect(() => pickByShare([0, 0], 0.5)).toThrow(/positive share/);
  });
});
