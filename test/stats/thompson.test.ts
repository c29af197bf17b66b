/**
 * Thompson-sampling allocation: P(best) against exact integrals, the floor, burn-in, picking an
 * arm, the regret estimate, and seeded batched simulations of a two-arm bandit.
 */
import mt19937 from "@stdlib/random-base-mt19937";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type BinomialArm, chanceToBeatControl, expectedLoss } from "../../stats/bayes.ts";
import { betaCdf, betaQuantile, tCdf, tQuantile } from "../../stats/distributions.ts";
import { integrate } from "../../stats/quadrature.ts";
import {
  type AllocationPolicy,
  type ArmStats,
  allocationProbabilities,
  applyFloor,
  pickArm,
  type Reward,
  regretEstimate,
} from "../../stats/thompson.ts";

/** A seeded uniform in [0, 1) (32-bit resolution is plenty for simulation and halves the cost). */
function uniform(seed: number): () => number {
  const rng = mt19937.factory({ seed });
  return () => rng() / 4294967296;
}

function binaryArm(n: number, successes: number): ArmStats {
  return { n, sum: successes, sumSquares: successes };
}

function continuousArm(n: number, mean: number, sd: number): ArmStats {
  // Sufficient statistics of a sample with this mean and sample sd (ddof 1).
  return { n, sum: n * mean, sumSquares: (n - 1) * sd * sd + n * mean * mean };
}

const EXACT: AllocationPolicy = { floor: 0, burnIn: 0, draws: 100_000 };

/** 4.5 binomial SEs of a P(best) estimated from `draws` draws: a miss is a bug, not bad luck. */
function mcBound(p: number, draws: number): number {
  return 4.5 * Math.sqrt(Math.max(p * (1 - p), 1e-4) / draws);
}

describe("allocationProbabilities without floor or burn-in", () => {
  it.each([
    { name: "no data", control: { n: 0, successes: 0 }, treatment: { n: 0, successes: 0 } },
    { name: "small arms", control: { n: 20, successes: 9 }, treatment: { n: 25, successes: 15 } },
    {
      name: "0.55 vs 0.62 at 300 each",
      control: { n: 300, successes: 165 },
      treatment: { n: 300, successes: 186 },
    },
    {
      name: "a clear winner",
      control: { n: 2000, successes: 1000 },
      treatment: { n: 2000, successes: 1100 },
    },
    { name: "a rare event", control: { n: 5000, successes: 12 }, treatment: { n: 800, successes: 1 } },
  ])(
    "match stats/bayes.ts's exact P(treatment beats control) within MC error for two binary arms: $name",
    (c) => {
      const arms = [
        binaryArm(c.control.n, c.control.successes),
        binaryArm(c.treatment.n, c.treatment.successes),
      ];
      const exact = chanceToBeatControl(c.control as BinomialArm, c.treatment as BinomialArm);
      const [p0, p1] = allocationProbabilities(arms, "binary", EXACT, uniform(101));
      expect(Math.abs(p1! - exact)).toBeLessThan(mcBound(exact, EXACT.draws));
      expect(p0! + p1!).toBeCloseTo(1, 12);
    },
  );

  /** P(arm k best) = ∫₀¹ Π_{j≠k} F_j(Q_k(u)) du: substitute u = F_k(x) in ∫ f_k(x) Π F_j(x) dx. */
  function exactBest(cdfs: ((x: number) => number)[], quantiles: ((u: number) => number)[]): number[] {
    return quantiles.map((q, k) =>
      integrate(
        (u) => {
          const x = q(u);
          return cdfs.reduce((prod, cdf, j) => (j === k ? prod : prod * cdf(x)), 1);
        },
        [0, 0.001, 0.5, 0.999, 1],
        1e-10,
      ),
    );
  }

  it("match the exact integral for three binary arms", () => {
    const counts = [
      [200, 110],
      [180, 108],
      [150, 84],
    ] as const;
    const exact = exactBest(
      counts.map(
        ([n, s]) =>
          (x: number) =>
            betaCdf(x, 1 + s, 1 + n - s),
      ),
      counts.map(
        ([n, s]) =>
          (u: number) =>
            betaQuantile(u, 1 + s, 1 + n - s),
      ),
    );
    const arms = counts.map(([n, s]) => binaryArm(n, s));
    const got = allocationProbabilities(arms, "binary", EXACT, uniform(102));
    for (const [k, p] of got.entries())
      expect(Math.abs(p - exact[k]!)).toBeLessThan(mcBound(exact[k]!, EXACT.draws));
  });

  it("match the exact integral of Student t posteriors for three continuous arms", () => {
    // Posterior of each mean: sample mean + (s/√n)·t_{n−1} (reference prior, see stats/thompson.ts).
    const samples = [
      { n: 12, mean: 1.0, sd: 0.8 },
      { n: 30, mean: 1.3, sd: 1.5 },
      { n: 5, mean: 0.9, sd: 0.6 },
    ];
    const exact = exactBest(
      samples.map(
        ({ n, mean, sd }) =>
          (x: number) =>
            tCdf((x - mean) / (sd / Math.sqrt(n)), n - 1),
      ),
      samples.map(
        ({ n, mean, sd }) =>
          (u: number) =>
            mean + (sd / Math.sqrt(n)) * tQuantile(u, n - 1),
      ),
    );
    const arms = samples.map(({ n, mean, sd }) => continuousArm(n, mean, sd));
    const got = allocationProbabilities(arms, "continuous", EXACT, uniform(103));
    for (const [k, p] of got.entries())
      expect(Math.abs(p - exact[k]!)).toBeLessThan(mcBound(exact[k]!, EXACT.draws));
  });

  it("split the credit evenly between arms tied in every draw", () => {
    // Zero sample variance: each posterior is a point mass, and both sit at 2.
    const arm = { n: 10, sum: 20, sumSquares: 40 };
    expect(allocationProbabilities([arm, arm], "continuous", { ...EXACT, draws: 100 }, uniform(104))).toEqual(
      [0.5, 0.5],
    );
  });
});

describe("allocationProbabilities with burn-in", () => {
  const policy: AllocationPolicy = { floor: 0.05, burnIn: 50, draws: 1000 };

  it.each([
    { name: "one arm short of burn-in", reward: "binary", arms: [binaryArm(500, 400), binaryArm(49, 1)] },
    {
      name: "three arms, one short",
      reward: "binary",
      arms: [binaryArm(50, 0), binaryArm(80, 79), binaryArm(10, 0)],
    },
    {
      name: "continuous arm with 1 unit and no burn-in",
      reward: "continuous",
      arms: [continuousArm(100, 5, 1), { n: 1, sum: 0, sumSquares: 0 }],
      burnIn: 0,
    },
  ] as { name: string; reward: Reward; arms: ArmStats[]; burnIn?: number }[])(
    "stays uniform until every arm has its units: $name",
    ({ reward, arms, burnIn }) => {
      const got = allocationProbabilities(
        arms,
        reward,
        { ...policy, burnIn: burnIn ?? policy.burnIn },
        uniform(1),
      );
      for (const p of got) expect(p).toBe(1 / arms.length);
    },
  );

  it("adapts once every arm has reached burn-in", () => {
    const got = allocationProbabilities([binaryArm(50, 10), binaryArm(50, 40)], "binary", policy, uniform(2));
    expect(got).toEqual([0.05, 0.95]);
  });
});

describe("applyFloor", () => {
  it.each([
    { name: "two arms", p: [0.99, 0.01], floor: 0.05, want: [0.95, 0.05] },
    // max(p, 0.05) renormalised would give 0.05/1.08 = 0.046 to the small arms: under the floor.
    { name: "where plain renormalising fails", p: [0.98, 0.01, 0.01], floor: 0.05, want: [0.9, 0.05, 0.05] },
    // The first pass floors arm 2; scaling then takes arm 1 to 0.105·0.9/0.965 = 0.098, so a second pass floors it.
    { name: "a second pass", p: [0.86, 0.105, 0.035], floor: 0.1, want: [0.8, 0.1, 0.1] },
    { name: "already above the floor", p: [0.3, 0.3, 0.4], floor: 0.05, want: [0.3, 0.3, 0.4] },
    { name: "floor at 1/arms", p: [1, 0, 0, 0], floor: 0.25, want: [0.25, 0.25, 0.25, 0.25] },
  ])("raises small arms to the floor and keeps the sum 1: $name", ({ p, floor, want }) => {
    const got = applyFloor(p, floor);
    for (const [i, g] of got.entries()) expect(g).toBeCloseTo(want[i]!, 12);
  });

  it("leaves every arm at or above the floor, sums to 1 and keeps the arms' order, for any input", () => {
    const input = fc.integer({ min: 2, max: 8 }).chain((k) =>
      fc.record({
        weights: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: k, maxLength: k }),
        floorShare: fc.double({ min: 0, max: 1, noNaN: true }),
      }),
    );
    fc.assert(
      fc.property(input, ({ weights, floorShare }) => {
        const total = weights.reduce((s, w) => s + w, 0);
        fc.pre(total > 0);
        const p = weights.map((w) => w / total);
        const floor = floorShare / p.length;
        const got = applyFloor(p, floor);
        expect(got.reduce((s, g) => s + g, 0)).toBeCloseTo(1, 10);
        for (const g of got) expect(g).toBeGreaterThanOrEqual(floor - 1e-12);
        for (let i = 0; i < p.length; i++)
          for (let j = 0; j < p.length; j++)
            if (p[i]! < p[j]!) expect(got[i]!).toBeLessThanOrEqual(got[j]! + 1e-12);
      }),
      { seed: 17, numRuns: 300 },
    );
  });
  it.each([
    { name: "a floor above 1/arms", p: [0.5, 0.5], floor: 0.6, pattern: /floor is 0.6/ },
    { name: "a negative probability", p: [1.1, -0.1], floor: 0.05, pattern: /probabilities\[1\]/ },
  ])("rejects $name", ({ p, floor, pattern }) => {
    expect(() => applyFloor(p, floor)).toThrow(pattern);
  });
});

describe("pickArm", () => {
  it.each([
    { u: 0, want: 0 },
    { u: 0.1999, want: 0 },
    { u: 0.2, want: 1 },
    { u: 0.4999, want: 1 },
    { u: 0.5, want: 2 },
    { u: 0.999999, want: 2 },
  ])("gives arm $want for u = $u with probabilities [0.2, 0.3, 0.5]", ({ u, want }) => {
    expect(pickArm([0.2, 0.3, 0.5], u)).toBe(want);
  });

  it("never gives an arm with probability 0, even when rounding leaves the total under 1", () => {
    expect(pickArm([0.5, 0, 0.5], 0.5)).toBe(2);
    expect(pickArm([0.3, 0.3, 0.3999999999, 0], 0.99999999999)).toBe(2);
  });

  it("picks each arm at its probability within binomial bounds over 20,000 seeded uniforms", () => {
    const p = [0.05, 0.15, 0.8];
    const counts = [0, 0, 0];
    const random = uniform(3);
    const units = 20_000;
    for (let i = 0; i < units; i++) counts[pickArm(p, random())]!++;
    p.forEach((pk, k) => {
      expect(Math.abs(counts[k]! / units - pk)).toBeLessThan(4 * Math.sqrt((pk * (1 - pk)) / units));
    });
  });

  it.each([1, -0.1, Number.NaN])("rejects u = %s", (u) => {
    expect(() => pickArm([0.5, 0.5], u)).toThrow(RangeError);
  });
});

describe("regretEstimate", () => {
  it("gives each of two binary arms a per-unit gap equal to its expected loss against the other", () => {
    // max(C, T) − T = max(C − T, 0), so the gap of T is stats/bayes.ts's expected loss of T.
    const c = { n: 400, successes: 220 };
    const t = { n: 150, successes: 90 };
    const draws = 200_000;
    const got = regretEstimate(
      [binaryArm(c.n, c.successes), binaryArm(t.n, t.successes)],
      "binary",
      draws,
      uniform(4),
    );
    const lossT = expectedLoss(c, t);
    const lossC = expectedLoss(t, c);
    // The gaps are bounded by the spread of the posteriors (~0.05), so 4.5·0.05/√draws bounds the MC error.
    const bound = (4.5 * 0.05) / Math.sqrt(draws);
    expect(Math.abs(got.gapPerUnit[1]! - lossT)).toBeLessThan(bound);
    expect(Math.abs(got.gapPerUnit[0]! - lossC)).toBeLessThan(bound);
    expect(got.cumulative).toBeCloseTo(c.n * got.gapPerUnit[0]! + t.n * got.gapPerUnit[1]!, 12);
  });

  it("gives E[max] = 2/3 and gaps of 1/6 for two arms with no data (two independent uniforms)", () => {
    const none = binaryArm(0, 0);
    const got = regretEstimate([none, none], "binary", 100_000, uniform(5));
    expect(got.expectedBest).toBeCloseTo(2 / 3, 2);
    for (const g of got.gapPerUnit) expect(g).toBeCloseTo(1 / 6, 2);
    expect(got.cumulative).toBe(0);
  });

  it("is exact for continuous arms known without error: every unit on the worse arm costs the difference", () => {
    const worse = { n: 30, sum: 30, sumSquares: 30 };
    const better = { n: 70, sum: 140, sumSquares: 280 };
    expect(regretEstimate([worse, better], "continuous", 10, uniform(6))).toEqual({
      expectedBest: 2,
      gapPerUnit: [1, 0],
      cumulative: 30,
    });
  });

  it("rejects a continuous arm with fewer than 2 units", () => {
    expect(() =>
      regretEstimate(
        [continuousArm(10, 0, 1), { n: 1, sum: 1, sumSquares: 1 }],
        "continuous",
        10,
        uniform(7),
      ),
    ).toThrow(/arms\[1\]\.n is 1/);
  });
});

describe("allocationProbabilities rejects bad input", () => {
  const ok = [binaryArm(10, 5), binaryArm(10, 5)];
  const policy: AllocationPolicy = { floor: 0.05, burnIn: 0, draws: 10 };
  it.each([
    { name: "one arm", arms: [binaryArm(10, 5)], policy, pattern: /at least 2/ },
    {
      name: "successes above n",
      arms: [binaryArm(10, 11), binaryArm(10, 5)],
      policy,
      pattern: /arms\[0\]\.sum/,
    },
    { name: "fractional n", arms: [binaryArm(10, 5), binaryArm(9.5, 5)], policy, pattern: /arms\[1\]\.n/ },
    { name: "floor above 1/arms", arms: ok, policy: { ...policy, floor: 0.6 }, pattern: /policy\.floor/ },
    { name: "negative burn-in", arms: ok, policy: { ...policy, burnIn: -1 }, pattern: /policy\.burnIn/ },
    { name: "no draws", arms: ok, policy: { ...policy, draws: 0 }, pattern: /policy\.draws/ },
  ])("names the problem: $name", ({ arms, policy: p, pattern }) => {
    expect(() => allocationProbabilities(arms, "binary", p, uniform(8))).toThrow(pattern);
  });
});
