import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TestAlternative } from "../../stats/effect.ts";
import { type ProportionSummary, twoProportionZTest } from "../../stats/proportions.ts";
import { expectClose, expectInterval, type FixtureInterval, loadFixture } from "../helpers/reference.ts";

interface ProportionCase {
  control: ProportionSummary;
  treatment: ProportionSummary;
  alpha: number;
  alternative: TestAlternative;
  statistic: number;
  pValue: number;
  ci: FixtureInterval;
  relativeCi: FixtureInterval | null;
}

const reference = loadFixture<{
  proportions: ProportionCase[];
}>("tests-reference.json");

describe("twoProportionZTest", () => {
  it.each(reference.proportions)(
    "matches statsmodels for $control.successes/$control.n vs $treatment.successes/$treatment.n ($alternative, α $alpha)",
    (c) => {
      const result = twoProportionZTest(c.control, c.treatment, {
        alpha: c.alpha,
        alternative: c.alternative,
      });
      const pc = c.control.successes / c.control.n;
      const pt = c.treatment.successes / c.treatment.n;
      expect(result.control).toBe(pc);
      expect(result.treatment).toBe(pt);
      expect(result.effect).toBe(pt - pc);
      expect(result.df).toBeUndefined();
      expectClose(result.statistic, c.statistic);
      expectClose(result.pValue, c.pValue);
      expectInterval(result.ci, c.ci);
      expectInterval(result.relativeCi, c.relativeCi);
    },
  );

  it("reports the unpooled standard error, the one its interval uses", () => {
    const result = twoProportionZTest({ n: 1000, successes: 600 }, { n: 500, successes: 340 });
    expect(result.se).toBeCloseTo(Math.sqrt((0.6 * 0.4) / 1000 + (0.68 * 0.32) / 500), 15);
    expect(result.relativeLift).toBeCloseTo(0.08 / 0.6, 15);
  });

  it("defaults to a two-sided test at α = 0.05", () => {
    const control = { n: 1471, successes: 883 };
    const treatment = { n: 1471, successes: 957 };
    expect(twoProportionZTest(control, treatment)).toEqual(
      twoProportionZTest(control, treatment, { alpha: 0.05, alternative: "two-sided" }),
    );
  });

  it("splits the two-sided p-value into one-sided p-values that sum to 1", () => {
    const control = { n: 300, successes: 100 };
    const treatment = { n: 320, successes: 121 };
    const larger = twoProportionZTest(control, treatment, { alternative: "larger" }).pValue;
    const smaller = twoProportionZTest(control, treatment, { alternative: "smaller" }).pValue;
    const twoSided = twoProportionZTest(control, treatment).pValue;
    expect(larger + smaller).toBeCloseTo(1, 12);
    expect(twoSided).toBeCloseTo(2 * Math.min(larger, smaller), 12);
  });

  it("gives z = 0 and p = 1 when every unit in both arms fails, with the relative lift undefined", () => {
    const result = twoProportionZTest({ n: 500, successes: 0 }, { n: 400, successes: 0 });
    expect(result).toMatchObject({ effect: 0, se: 0, statistic: 0, pValue: 1, ci: [0, 0] });
    expect(result.relativeLift).toBeNaN();
    expect(result.relativeCi).toEqual([Number.NaN, Number.NaN]);
  });

  it("gives z = 0 and p = 1 when every unit in both arms succeeds", () => {
    const result = twoProportionZTest({ n: 50, successes: 50 }, { n: 70, successes: 70 });
    expect(result).toMatchObject({ effect: 0, statistic: 0, pValue: 1, ci: [0, 0], relativeLift: 0 });
  });

  it("keeps the absolute result valid when control has no successes", () => {
    const result = twoProportionZTest({ n: 800, successes: 0 }, { n: 800, successes: 4 });
    expect(result.effect).toBe(0.005);
    expect(Number.isFinite(result.pValue)).toBe(true);
    expect(result.relativeLift).toBeNaN();
  });

  it.each([
    { name: "an empty control arm", control: { n: 0, successes: 0 }, treatment: { n: 10, successes: 1 } },
    {
      name: "more successes than units",
      control: { n: 10, successes: 11 },
      treatment: { n: 10, successes: 1 },
    },
    { name: "negative successes", control: { n: 10, successes: 1 }, treatment: { n: 10, successes: -1 } },
    { name: "fractional successes", control: { n: 10, successes: 1.5 }, treatment: { n: 10, successes: 1 } },
    { name: "a fractional n", control: { n: 10.5, successes: 1 }, treatment: { n: 10, successes: 1 } },
  ])("throws a RangeError naming the field for $name", ({ control, treatment }) => {
    expect(() => twoProportionZTest(control, treatment)).toThrow(RangeError);
    expect(() => twoProportionZTest(control, treatment)).toThrow(/(control|treatment)\.(n|successes)/);
  });

  it.each([{ alpha: 0 }, { alpha: 1 }, { alpha: Number.NaN }])(
    "throws a RangeError for alpha $alpha",
    (o) => {
      expect(() => twoProportionZTest({ n: 10, successes: 1 }, { n: 10, successes: 2 }, o)).toThrow(/alpha/);
    },
  );

  it("returns finite results for any valid counts and a RangeError for anything else", () => {
    const arm = fc.record({
      n: fc.integer({ min: -2, max: 1_000_000 }),
      successes: fc.integer({ min: -2, max: 1_000_002 }),
    });
    fc.assert(
      fc.property(
        arm,
        arm,
        fc.constantFrom<TestAlternative>("two-sided", "larger", "smaller"),
        (c, t, alternative) => {
          const valid = (s: ProportionSummary) => s.n >= 1 && s.successes >= 0 && s.successes <= s.n;
          if (!valid(c) || !valid(t)) {
            expect(() => twoProportionZTest(c, t, { alternative })).toThrow(RangeError);
            return;
          }
          const r = twoProportionZTest(c, t, { alternative });
          for (const x of [r.control, r.treatment, r.effect, r.se, r.statistic, r.pValue]) {
            expect(Number.isFinite(x)).toBe(true);
          }
          expect(r.pValue).toBeGreaterThanOrEqual(0);
          expect(r.pValue).toBeLessThanOrEqual(1);
          expect(r.ci[0]).toBeLessThanOrEqual(r.effect);
          expect(r.ci[1]).toBeGreaterThanOrEqual(r.effect);
          if (c.successes > 0) expect(Number.isFinite(r.relativeLift)).toBe(true);
        },
      ),
    );
  });
});
