import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TestAlternative } from "../../stats/effect.ts";
import { type MeanSummary, welchTTest } from "../../stats/welch.ts";
import { expectClose, expectInterval, type FixtureInterval, loadFixture } from "../helpers/reference.ts";

interface WelchCase {
  name: string;
  control: MeanSummary;
  treatment: MeanSummary;
  alpha: number;
  alternative: TestAlternative;
  statistic: number;
  pValue: number;
  df: number;
  ci: FixtureInterval;
  relativeCi: FixtureInterval;
}

const reference = loadFixture<{
  welch: WelchCase[];
}>("tests-reference.json");

describe("welchTTest", () => {
  it.each(reference.welch)("matches scipy and statsmodels on $name ($alternative, α $alpha)", (c) => {
    const result = welchTTest(c.control, c.treatment, { alpha: c.alpha, alternative: c.alternative });
    expect(result.control).toBe(c.control.mean);
    expect(result.treatment).toBe(c.treatment.mean);
    expect(result.effect).toBe(c.treatment.mean - c.control.mean);
    expectClose(result.statistic, c.statistic);
    expectClose(result.pValue, c.pValue);
    expectClose(result.df ?? Number.NaN, c.df);
    expectInterval(result.ci, c.ci);
    expectInterval(result.relativeCi, c.relativeCi);
  });

  it("rejects the null on one side exactly when the one-sided bound excludes 0", () => {
    const control = { n: 300, mean: 3.0, variance: 1.0 };
    for (const mean of [3.05, 3.1, 3.13, 3.14, 3.2]) {
      const r = welchTTest(control, { n: 320, mean, variance: 1.4 }, { alternative: "larger" });
      expect(r.pValue < 0.05).toBe(r.ci[0] > 0);
    }
  });

  it("gives statistic 0 and p = 1 when both arms are constant at the same value", () => {
    const r = welchTTest({ n: 10, mean: 4, variance: 0 }, { n: 12, mean: 4, variance: 0 });
    expect(r).toMatchObject({
      effect: 0,
      se: 0,
      statistic: 0,
      pValue: 1,
      ci: [0, 0],
      relativeCi: [0, 0],
      df: 20,
    });
  });

  it("throws a RangeError when both arms are constant at different values", () => {
    expect(() => welchTTest({ n: 10, mean: 4, variance: 0 }, { n: 12, mean: 5, variance: 0 })).toThrow(
      /zero variance but different means/,
    );
  });

  it("falls back to the varying arm's n − 1 degrees of freedom when the other arm is constant", () => {
    const r = welchTTest({ n: 10, mean: 4, variance: 0 }, { n: 12, mean: 5, variance: 2 });
    expect(r.df).toBeCloseTo(11, 12);
    expect(Number.isFinite(r.pValue)).toBe(true);
  });

  it("leaves the relative lift undefined when the control mean is 0", () => {
    const r = welchTTest({ n: 10, mean: 0, variance: 1 }, { n: 10, mean: 0.5, variance: 1 });
    expect(r.relativeLift).toBeNaN();
    expect(r.relativeCi).toEqual([Number.NaN, Number.NaN]);
    expect(Number.isFinite(r.pValue)).toBe(true);
  });

  it.each([
    { name: "a single unit in control", control: { n: 1, mean: 0, variance: 0 }, field: /control\.n/ },
    { name: "an empty control arm", control: { n: 0, mean: 0, variance: 0 }, field: /control\.n/ },
    { name: "a negative variance", control: { n: 5, mean: 0, variance: -1 }, field: /control\.variance/ },
    { name: "a NaN mean", control: { n: 5, mean: Number.NaN, variance: 1 }, field: /control\.mean/ },
    {
      name: "an infinite variance",
      control: { n: 5, mean: 0, variance: Number.POSITIVE_INFINITY },
      field: /variance/,
    },
  ])("throws a RangeError for $name", ({ control, field }) => {
    const run = () => welchTTest(control, { n: 5, mean: 1, variance: 1 });
    expect(run).toThrow(RangeError);
    expect(run).toThrow(field);
  });

  it("returns finite results for any usable summaries and a RangeError for the rest", () => {
    const arm = fc.record({
      n: fc.integer({ min: 0, max: 100_000 }),
      mean: fc.oneof(fc.constant(0), fc.constant(1), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
      variance: fc.oneof(fc.constant(0), fc.double({ min: -1, max: 1e6, noNaN: true })),
    });
    const usable = (s: MeanSummary) => s.n >= 2 && s.variance >= 0;
    fc.assert(
      fc.property(
        arm,
        arm,
        fc.constantFrom<TestAlternative>("two-sided", "larger", "smaller"),
        (c, t, alternative) => {
          const noisy = c.variance / c.n + t.variance / t.n > 0;
          // Means within a few ulps count as equal (documented in stats/effect.ts).
          const separated =
            Math.abs(c.mean - t.mean) > 8 * Number.EPSILON * Math.max(Math.abs(c.mean), Math.abs(t.mean));
          if (!usable(c) || !usable(t) || (!noisy && separated)) {
            expect(() => welchTTest(c, t, { alternative })).toThrow(RangeError);
            return;
          }
          const r = welchTTest(c, t, { alternative });
          for (const x of [r.effect, r.se, r.statistic, r.pValue, r.df ?? Number.NaN]) {
            expect(Number.isFinite(x)).toBe(true);
          }
          expect(r.pValue).toBeGreaterThanOrEqual(0);
          expect(r.pValue).toBeLessThanOrEqual(1);
          expect(r.ci[0]).toBeLessThanOrEqual(r.ci[1]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
