import binomial from "@stdlib/random-base-binomial";
import uniform from "@stdlib/random-base-uniform";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type RatioSummary, ratioDeltaTest, ratioEstimate } from "../../stats/ratio.ts";
import { expectClose, expectInterval, loadFixture } from "../helpers/reference.ts";

interface RatioCase {
  name: string;
  control: RatioSummary;
  treatment: RatioSummary;
  alpha: number;
  ratioControl: number;
  ratioTreatment: number;
  se: number;
  statistic: number;
  pValue: number;
  ci: [number, number];
  relativeCi: [number, number];
}

const reference = loadFixture<{
  ratio: RatioCase[];
}>("tests-reference.json");

/** Unit-level summary of paired numerator/denominator values, as a metrics pipeline would produce it. */
function summarise(y: Float64Array, x: Float64Array): RatioSummary {
  const n = y.length;
  let sy = 0;
  let sx = 0;
  for (let i = 0; i < n; i++) {
    sy += y[i] ?? 0;
    sx += x[i] ?? 0;
  }
  const my = sy / n;
  const mx = sx / n;
  let vy = 0;
  let vx = 0;
  let cxy = 0;
  for (let i = 0; i < n; i++) {
    const dy = (y[i] ?? 0) - my;
    const dx = (x[i] ?? 0) - mx;
    vy += dy * dy;
    vx += dx * dx;
    cxy += dx * dy;
  }
  return {
    n,
    meanNumerator: my,
    meanDenominator: mx,
    varNumerator: vy / (n - 1),
    varDenominator: vx / (n - 1),
    covariance: cxy / (n - 1),
  };
}

describe("ratioDeltaTest", () => {
  it.each(reference.ratio)("matches the numpy delta-method reference on $name", (c) => {
    const result = ratioDeltaTest(c.control, c.treatment, { alpha: c.alpha });
    expectClose(result.control, c.ratioControl);
    expectClose(result.treatment, c.ratioTreatment);
    expectClose(result.se, c.se);
    expectClose(result.statistic, c.statistic);
    expectClose(result.pValue, c.pValue);
    expect(result.df).toBeUndefined();
    expectInterval(result.ci, c.ci);
    expectInterval(result.relativeCi, c.relativeCi);
  });

  it("covers the true difference of errors per request about 95% of the time when conversations are the unit", () => {
    // Conversations have 1–9 requests and their own error propensity, so requests within one
    // conversation are correlated: exactly the case the delta method exists for.
    const experiments = 1000;
    const units = 400;
    const draw = binomial.factory({ seed: 20240614 });
    const propensity = uniform.factory({ seed: 20240615 });
    const truth = { control: 0.1, treatment: 0.12 }; // E[errors]/E[requests] = mean propensity
    const y = new Float64Array(units);
    const x = new Float64Array(units);
    const arm = (meanPropensity: number): RatioSummary => {
      for (let i = 0; i < units; i++) {
        const requests = 1 + draw(8, 0.4);
        x[i] = requests;
        y[i] = draw(requests, propensity(0, 2 * meanPropensity));
      }
      return summarise(y, x);
    };
    let covered = 0;
    for (let e = 0; e < experiments; e++) {
      const control = arm(truth.control);
      const treatment = arm(truth.treatment);
      const [lo, hi] = ratioDeltaTest(control, treatment).ci;
      const target = truth.treatment - truth.control;
      if (lo <= target && target <= hi) covered++;
    }
    // 1,000 experiments put the coverage's standard error at 0.7 points; ±2 points is ~3 SE.
    expect(covered / experiments).toBeGreaterThanOrEqual(0.93);
    expect(covered / experiments).toBeLessThanOrEqual(0.97);
  });

  it("computes the per-arm delta-method variance as the variance of the linearised units", () => {
    // Var(R) = Var(Y − R·X)/(n·μx²); with these summaries Y − R·X has variance 4 − 2·0.5·1 + 0.25·2 = 3.5.
    const s: RatioSummary = {
      n: 100,
      meanNumerator: 1,
      meanDenominator: 2,
      varNumerator: 4,
      varDenominator: 2,
      covariance: 1,
    };
    const { ratio, variance } = ratioEstimate(s);
    expect(ratio).toBe(0.5);
    expect(variance).toBeCloseTo(3.5 / (100 * 4), 15);
  });

  it("gives p = 1 when the ratio is the same constant in every unit of both arms", () => {
    // y = 0.25·x in every unit: Var(Y − R·X) = 0 in both arms.
    const arm = {
      n: 50,
      meanNumerator: 1,
      meanDenominator: 4,
      varNumerator: 0.25,
      varDenominator: 4,
      covariance: 1,
    };
    const r = ratioDeltaTest(arm, { ...arm, n: 60 });
    expect(r).toMatchObject({ effect: 0, se: 0, statistic: 0, pValue: 1 });
  });

  const valid: RatioSummary = {
    n: 50,
    meanNumerator: 1,
    meanDenominator: 4,
    varNumerator: 1,
    varDenominator: 4,
    covariance: 1,
  };
  it.each([
    { name: "a single unit", arm: { ...valid, n: 1 }, message: /control\.n/ },
    { name: "a zero mean denominator", arm: { ...valid, meanDenominator: 0 }, message: /ratio is undefined/ },
    { name: "a negative variance", arm: { ...valid, varDenominator: -1 }, message: /varDenominator/ },
    { name: "a covariance beyond Cauchy–Schwarz", arm: { ...valid, covariance: 2.5 }, message: /impossible/ },
    { name: "a NaN mean", arm: { ...valid, meanNumerator: Number.NaN }, message: /meanNumerator/ },
  ])("throws a RangeError for $name", ({ arm, message }) => {
    const run = () => ratioDeltaTest(arm, valid);
    expect(run).toThrow(RangeError);
    expect(run).toThrow(message);
  });

  it("returns finite results for any consistent summaries", () => {
    const arm = fc
      .record({
        n: fc.integer({ min: 2, max: 100_000 }),
        meanNumerator: fc.double({ min: 0, max: 100, noNaN: true }),
        meanDenominator: fc.double({ min: 0.01, max: 100, noNaN: true }),
        // Zero or a realistic spread: products of subnormal sds would underflow unevenly.
        sdNumerator: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 100, noNaN: true })),
        sdDenominator: fc.oneof(fc.constant(0), fc.double({ min: 1e-6, max: 100, noNaN: true })),
        correlation: fc.double({ min: -1, max: 1, noNaN: true }),
      })
      .map(
        (a): RatioSummary => ({
          n: a.n,
          meanNumerator: a.meanNumerator,
          meanDenominator: a.meanDenominator,
          varNumerator: a.sdNumerator ** 2,
          varDenominator: a.sdDenominator ** 2,
          covariance: a.correlation * a.sdNumerator * a.sdDenominator,
        }),
      );
    fc.assert(
      fc.property(arm, arm, (c, t) => {
        let r: ReturnType<typeof ratioDeltaTest>;
        try {
          r = ratioDeltaTest(c, t);
        } catch (error) {
          // The only documented failure left: a noiseless difference between unequal ratios.
          expect(error).toBeInstanceOf(RangeError);
          expect(String(error)).toMatch(/zero variance but different means/);
          return;
        }
        for (const x of [r.effect, r.se, r.statistic, r.pValue, ...r.ci])
          expect(Number.isFinite(x)).toBe(true);
        expect(r.pValue).toBeGreaterThanOrEqual(0);
        expect(r.pValue).toBeLessThanOrEqual(1);
      }),
    );
  });
});
