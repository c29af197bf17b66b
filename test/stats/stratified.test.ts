import binomialFactory from "@stdlib/random-base-binomial";
import { describe, expect, it } from "vitest";
import { stratifiedTest } from "../../stats/stratified.ts";
import { welchTTest } from "../../stats/welch.ts";

const binary = (n: number, successes: number) => {
  const mean = successes / n;
  return { n, mean, variance: (n * mean * (1 - mean)) / (n - 1) };
};

describe("stratifiedTest", () => {
  it("reduces to the unpooled difference of means with a single stratum", () => {
    const control = { n: 400, mean: 3.1, variance: 1.2 };
    const treatment = { n: 300, mean: 3.4, variance: 1.5 };
    const s = stratifiedTest([{ label: "all", control, treatment }]);
    const w = welchTTest(control, treatment);
    expect(s.effect).toBeCloseTo(w.effect, 12);
    expect(s.se).toBeCloseTo(w.se, 12);
    // A z reference, not t: at these sizes the p-values agree closely but not exactly.
    expect(s.pValue).toBeCloseTo(w.pValue, 4);
  });

  it("weights strata by their share of units and reports each stratum's effect", () => {
    const s = stratifiedTest([
      { label: "10%", control: binary(900, 540), treatment: binary(100, 66) },
      { label: "50%", control: binary(1500, 750), treatment: binary(1500, 825) },
    ]);
    expect(s.strata.map((x) => x.weight)).toEqual([0.25, 0.75]);
    expect(s.effect).toBeCloseTo(0.25 * (0.66 - 0.6) + 0.75 * (0.55 - 0.5), 12);
  });

  it("leaves out a stratum missing an arm and refuses when none is usable", () => {
    const s = stratifiedTest([
      { label: "a", control: binary(100, 50), treatment: binary(100, 60) },
      { label: "b", control: binary(100, 50), treatment: { n: 1, mean: 1, variance: 0 } },
    ]);
    expect(s.strata.map((x) => x.label)).toEqual(["a"]);
    expect(() =>
      stratifiedTest([{ label: "b", control: binary(100, 50), treatment: { n: 0, mean: 0, variance: 0 } }]),
    ).toThrow(/no stratum has at least 2 units in both arms \(strata: b\)/);
  });

  it("covers the true effect of a ramped experiment with drift at the nominal rate where pooling is biased", () => {
    // Phase 1: 10 % treatment, base rate 0.70; phase 2: 50 % treatment, base rate 0.50. True lift +0.03 in both.
    const draw = binomialFactory.factory({ seed: 20261127 });
    const truth = 0.03;
    let covered = 0;
    let pooledCovered = 0;
    const runs = 2000;
    for (let r = 0; r < runs; r++) {
      const phases = [
        { n: 4000, share: 0.1, base: 0.7 },
        { n: 4000, share: 0.5, base: 0.5 },
      ].map(({ n, share, base }, k) => {
        const nt = Math.round(n * share);
        const nc = n - nt;
        return {
          label: `phase-${k}`,
          control: binary(nc, draw(nc, base)),
          treatment: binary(nt, draw(nt, base + truth)),
        };
      });
      const s = stratifiedTest(phases);
      if (s.ci[0] <= truth && truth <= s.ci[1]) covered++;
      const pool = (arm: "control" | "treatment") => {
        const n = phases.reduce((a, p) => a + p[arm].n, 0);
        return binary(n, Math.round(phases.reduce((a, p) => a + p[arm].mean * p[arm].n, 0)));
      };
      const pooled = welchTTest(pool("control"), pool("treatment"));
      if (pooled.ci[0] <= truth && truth <= pooled.ci[1]) pooledCovered++;
    }
    expect(covered / runs).toBeGreaterThan(0.93);
    expect(covered / runs).toBeLessThan(0.97);
    // Pooling credits the treatment with the low-rate phase it is over-represented in: badly biased.
    expect(pooledCovered / runs).toBeLessThan(0.5);
  });
});
