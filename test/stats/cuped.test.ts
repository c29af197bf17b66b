import uniformFactory from "@stdlib/random-base-uniform";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CovariateSummary, cupedTest, cupedTestWithMissing } from "../../stats/cuped.ts";
import type { TestAlternative } from "../../stats/effect.ts";
import { welchTTest } from "../../stats/welch.ts";
import { expectClose, expectInterval, type FixtureInterval, loadFixture } from "../helpers/reference.ts";

interface CupedCase {
  name: string;
  control: CovariateSummary;
  treatment: CovariateSummary;
  alpha: number;
  alternative: TestAlternative;
  theta: number;
  adjustedControl: number;
  adjustedTreatment: number;
  varianceReduction: number;
  statistic: number;
  pValue: number;
  df: number;
  ci: FixtureInterval;
  relativeCi: FixtureInterval;
}

const reference = loadFixture<{
  cuped: CupedCase[];
}>("tests-reference.json");

const arm = (over: Partial<CovariateSummary> = {}): CovariateSummary => ({
  n: 200,
  meanY: 10,
  meanX: 8,
  varY: 9,
  varX: 4,
  covXY: 3,
  ...over,
});

describe("cupedTest", () => {
  it.each(reference.cuped)(
    "matches the row-by-row adjustment and scipy Welch on $name ($alternative, α $alpha)",
    (c) => {
      const result = cupedTest(c.control, c.treatment, { alpha: c.alpha, alternative: c.alternative });
      expectClose(result.theta, c.theta);
      expectClose(result.control, c.adjustedControl);
      expectClose(result.treatment, c.adjustedTreatment);
      expectClose(result.varianceReduction, c.varianceReduction);
      expectClose(result.statistic, c.statistic);
      expectClose(result.pValue, c.pValue);
      expectClose(result.df ?? Number.NaN, c.df);
      expectInterval(result.ci, c.ci);
      expectInterval(result.relativeCi, c.relativeCi);
    },
  );

  it("is the plain Welch test when the covariate is constant", () => {
    const control = arm({ varX: 0, covXY: 0 });
    const treatment = arm({ meanY: 10.5, varX: 0, covXY: 0 });
    const result = cupedTest(control, treatment);
    const welch = welchTTest({ n: 200, mean: 10, variance: 9 }, { n: 200, mean: 10.5, variance: 9 });
    expect(result).toEqual({ ...welch, theta: 0, varianceReduction: 0 });
  });

  it("removes the share of variance the covariate explains, ρ², when arms share one relation", () => {
    // Equal covariate means and within-arm relations: θ is cov/var = 0.75 and ρ² = 3²/(9·4) = 0.25.
    const result = cupedTest(arm(), arm({ meanY: 10.4 }));
    expect(result.theta).toBeCloseTo(0.75, 12);
    expect(result.varianceReduction).toBeCloseTo(0.25, 12);
  });

  it("corrects a chance imbalance in the covariate, moving the effect by θ times the gap", () => {
    const control = arm();
    const treatment = arm({ meanY: 10.4, meanX: 8.2 });
    const result = cupedTest(control, treatment);
    expect(result.effect).toBeCloseTo(0.4 - result.theta * 0.2, 12);
  });

  it("gives p = 1 when the covariate predicts the metric perfectly and the arms agree", () => {
    // Y = X + 2 in every unit of both arms: the adjusted values are constant and equal.
    const perfect = (n: number, meanX: number) => ({
      n,
      meanY: meanX + 2,
      meanX,
      varY: 4,
      varX: 4,
      covXY: 4,
    });
    const result = cupedTest(perfect(100, 8), perfect(120, 8.3));
    expect(result.theta).toBeCloseTo(1, 12);
    expect(result.effect).toBeCloseTo(0, 12);
    expect(result.pValue).toBe(1);
    expect(result.varianceReduction).toBeCloseTo(1, 12);
  });

  it.each([
    { name: "a single unit", control: arm({ n: 1 }), message: /control\.n/ },
    { name: "a negative variance of the metric", control: arm({ varY: -1 }), message: /control\.variance/ },
    { name: "a covariance beyond Cauchy–Schwarz", control: arm({ covXY: 7 }), message: /impossible/ },
    { name: "a NaN covariate mean", control: arm({ meanX: Number.NaN }), message: /control\.mean/ },
  ])("throws a RangeError naming cupedTest for $name", ({ control, message }) => {
    const run = () => cupedTest(control, arm());
    expect(run).toThrow(RangeError);
    expect(run).toThrow(/cupedTest/);
    expect(run).toThrow(message);
  });

  it("returns finite results for any consistent summaries", () => {
    const summary = fc
      .record({
        n: fc.integer({ min: 2, max: 100_000 }),
        meanY: fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        meanX: fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        // Zero or a realistic spread: products of subnormal sds would underflow unevenly.
        sdY: fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 1e3, noNaN: true })),
        sdX: fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 1e3, noNaN: true })),
        correlation: fc.double({ min: -1, max: 1, noNaN: true }),
      })
      .map(
        (a): CovariateSummary => ({
          n: a.n,
          meanY: a.meanY,
          meanX: a.meanX,
          varY: a.sdY ** 2,
          varX: a.sdX ** 2,
          covXY: a.correlation * a.sdY * a.sdX,
        }),
      );
    fc.assert(
      fc.property(summary, summary, (c, t) => {
        let r: ReturnType<typeof cupedTest>;
        try {
          r = cupedTest(c, t);
        } catch (error) {
          // The only documented failure left: adjusted values constant in both arms but unequal.
          expect(error).toBeInstanceOf(RangeError);
          expect(String(error)).toMatch(/zero variance but different means/);
          return;
        }
        for (const x of [r.effect, r.se, r.statistic, r.pValue, r.theta, r.varianceReduction, ...r.ci]) {
          expect(Number.isFinite(x)).toBe(true);
        }
        expect(r.pValue).toBeGreaterThanOrEqual(0);
        expect(r.pValue).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe("cupedTestWithMissing", () => {
  it("equals adjusting row by row with the pooled covariate mean imputed for units without one", () => {
    const u = uniformFactory.factory(0, 1, { seed: 99 });
    const rows = (n: number, shift: number) =>
      Array.from({ length: n }, (_, i) => {
        const x = 100 + 50 * u();
        return { y: x * 0.8 + shift + 20 * (u() - 0.5), x: i % 3 === 0 ? undefined : x };
      });
    const c = rows(600, 0);
    const t = rows(500, 4);
    const paired = (rs: typeof c) => rs.filter((r) => r.x !== undefined) as { y: number; x: number }[];
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const cov = (a: number[], b: number[]) => {
      const ma = mean(a);
      const mb = mean(b);
      return a.reduce((s, v, i) => s + (v - ma) * (b[i]! - mb), 0) / (a.length - 1);
    };
    const covSummary = (rs: { y: number; x: number }[]) => {
      const ys = rs.map((r) => r.y);
      const xs = rs.map((r) => r.x);
      return {
        n: rs.length,
        meanY: mean(ys),
        meanX: mean(xs),
        varY: cov(ys, ys),
        varX: cov(xs, xs),
        covXY: cov(xs, ys),
      };
    };
    const all = (rs: typeof c) => {
      const ys = rs.map((r) => r.y);
      return { n: ys.length, mean: mean(ys), variance: cov(ys, ys) };
    };
    const result = cupedTestWithMissing(
      { all: all(c), paired: covSummary(paired(c)) },
      { all: all(t), paired: covSummary(paired(t)) },
    );
    // Row by row: θ from the paired units of both arms, the pooled paired mean of X imputed.
    const pairedAll = [...paired(c), ...paired(t)];
    const xs = pairedAll.map((r) => r.x);
    const theta =
      cov(
        xs,
        pairedAll.map((r) => r.y),
      ) / cov(xs, xs);
    const xBar = mean(xs);
    const adjust = (rs: typeof c) => rs.map((r) => r.y - theta * ((r.x ?? xBar) - xBar));
    const byRow = welchTTest(
      all(c.map((r, i) => ({ ...r, y: adjust(c)[i]! }))),
      all(t.map((r, i) => ({ ...r, y: adjust(t)[i]! }))),
    );
    expect(result.theta).toBeCloseTo(theta, 10);
    expect(result.effect).toBeCloseTo(byRow.effect, 9);
    expect(result.se).toBeCloseTo(byRow.se, 9);
    expect(result.pValue).toBeCloseTo(byRow.pValue, 9);
    expect(result.varianceReduction).toBeGreaterThan(0.3);
  });
});
