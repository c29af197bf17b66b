/**
 * Seeded A/A simulations: with no true difference, a fixed-horizon test at α = 0.05 must reject
 * about 5% of the time. Each run is deterministic (fixed seeds), and the accepted band is about
 * three binomial standard errors of the false-positive rate wide on each side, so a correct test
 * passes with room to spare while a test off by a point or more does not.
 */
import binomial from "@stdlib/random-base-binomial";
import normal from "@stdlib/random-base-normal";
import { describe, expect, it } from "vitest";
import { type CovariateSummary, cupedTest } from "../../stats/cuped.ts";
import { twoProportionZTest } from "../../stats/proportions.ts";
import { type MeanSummary, welchTTest } from "../../stats/welch.ts";

const ALPHA = 0.05;

/** Sample mean and variance (ddof = 1) of a buffer. */
function meanSummary(values: Float64Array): MeanSummary {
  const n = values.length;
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return { n, mean, variance: ss / (n - 1) };
}

describe("A/A false-positive rate", () => {
  it("stays within [4%, 6%] for the two-proportion z test over 4,000 experiments at p = 0.3, n = 2,000 per arm", () => {
    const experiments = 4000;
    const n = 2000;
    const draw = binomial.factory({ seed: 20240601 });
    let rejections = 0;
    for (let e = 0; e < experiments; e++) {
      const result = twoProportionZTest(
        { n, successes: draw(n, 0.3) },
        { n, successes: draw(n, 0.3) },
        { alpha: ALPHA },
      );
      if (result.pValue < ALPHA) rejections++;
    }
    // SE of the rate at 4,000 experiments is 0.34 points; the band is ±1 point.
    const rate = rejections / experiments;
    expect(rate).toBeGreaterThanOrEqual(0.04);
    expect(rate).toBeLessThanOrEqual(0.06);
  });

  it("stays within [4%, 6%] for Welch's test with unequal arm sizes and variances over 4,000 experiments", () => {
    // Control: 80 units with sd 1; treatment: 40 units with sd 3, same mean. With the larger
    // variance in the smaller arm the pooled-variance t test rejects about 13% of the time on these
    // draws; Welch's must not.
    const experiments = 4000;
    const control = new Float64Array(80);
    const treatment = new Float64Array(40);
    const draw = normal.factory(0, 1, { seed: 20240602 });
    let rejections = 0;
    for (let e = 0; e < experiments; e++) {
      for (let i = 0; i < control.length; i++) control[i] = 5 + draw();
      for (let i = 0; i < treatment.length; i++) treatment[i] = 5 + 3 * draw();
      if (welchTTest(meanSummary(control), meanSummary(treatment), { alpha: ALPHA }).pValue < ALPHA)
        rejections++;
    }
    const rate = rejections / experiments;
    expect(rate).toBeGreaterThanOrEqual(0.04);
    expect(rate).toBeLessThanOrEqual(0.06);
  });

  it("stays within [4%, 6%] for CUPED over 4,000 experiments while shrinking the variance by about ρ²", () => {
    // Y = 0.8·X + noise with Var(X) = 1 and Var(noise) = 0.36: ρ² = 0.64/(0.64 + 0.36) = 0.64.
    const experiments = 4000;
    const units = 100;
    const draw = normal.factory(0, 1, { seed: 20240603 });
    const y = new Float64Array(units);
    const x = new Float64Array(units);
    const arm = (): CovariateSummary => {
      for (let i = 0; i < units; i++) {
        x[i] = 10 + draw();
        y[i] = 0.8 * (x[i] ?? 0) + 0.6 * draw();
      }
      const sy = meanSummary(y);
      const sx = meanSummary(x);
      let cov = 0;
      for (let i = 0; i < units; i++) cov += ((x[i] ?? 0) - sx.mean) * ((y[i] ?? 0) - sy.mean);
      return {
        n: units,
        meanY: sy.mean,
        meanX: sx.mean,
        varY: sy.variance,
        varX: sx.variance,
        covXY: cov / (units - 1),
      };
    };
    let rejections = 0;
    let reduction = 0;
    for (let e = 0; e < experiments; e++) {
      const result = cupedTest(arm(), arm(), { alpha: ALPHA });
      if (result.pValue < ALPHA) rejections++;
      reduction += result.varianceReduction;
    }
    const rate = rejections / experiments;
    expect(rate).toBeGreaterThanOrEqual(0.04);
    expect(rate).toBeLessThanOrEqual(0.06);
    expect(reduction / experiments).toBeCloseTo(0.64, 1);
  });
});
