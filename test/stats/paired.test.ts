import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pairedDifference } from "../../stats/paired.ts";
import { loadFixture } from "../helpers/reference.ts";

interface PairedCase {
  name: string;
  treatment: number[];
  control: number[];
  alpha: number;
  n: number;
  meanDiff: number;
  se: number;
  df: number;
  ci: [number, number];
  pValue: number;
}

const reference = loadFixture<{ paired: PairedCase[] }>("gate_stats_reference.json");

/** Within 1e-9 relative of scipy / statsmodels. */
function expectNear(actual: number, expected: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(
    1e-9 * Math.abs(expected),
  );
}

const score = fc.integer({ min: 1, max: 5 });

describe("pairedDifference", () => {
  it.each(reference.paired)("matches scipy ttest_rel and statsmodels tconfint_mean on $name", (c) => {
    const r = pairedDifference(c.treatment, c.control, c.alpha);
    expect(r.n).toBe(c.n);
    expect(r.df).toBe(c.df);
    expectNear(r.meanDiff, c.meanDiff);
    expectNear(r.se, c.se);
    expectNear(r.ci[0], c.ci[0]);
    expectNear(r.ci[1], c.ci[1]);
    expectNear(r.pValue, c.pValue);
  });

  it.each([
    { name: "every score up one point", treatment: [4, 3, 5, 2], control: [3, 2, 4, 1], d: 1, pValue: 0 },
    { name: "every score down half a point", treatment: [3, 2.5], control: [3.5, 3], d: -0.5, pValue: 0 },
    { name: "identical scores", treatment: [4, 3, 5], control: [4, 3, 5], d: 0, pValue: 1 },
  ])("reports se 0 and a point interval when $name", ({ treatment, control, d, pValue }) => {
    const r = pairedDifference(treatment, control, 0.05);
    expect(r).toEqual({
      n: treatment.length,
      meanDiff: d,
      se: 0,
      df: treatment.length - 1,
      ci: [d, d],
      pValue,
    });
  });

  it.each([
    { name: "one pair", treatment: [4], control: [3], message: /at least 2 paired cases .*got 1/ },
    { name: "no pairs", treatment: [], control: [], message: /at least 2 paired cases .*got 0/ },
    {
      name: "lists of different lengths",
      treatment: [4, 3],
      control: [3],
      message: /2 scores but control has 1/,
    },
    { name: "a NaN score", treatment: [4, Number.NaN], control: [3, 3], message: /treatment\[1\]/ },
    {
      name: "an infinite score",
      treatment: [4, 3],
      control: [Number.POSITIVE_INFINITY, 3],
      message: /control\[0\]/,
    },
  ])("throws a RangeError naming why for $name", ({ treatment, control, message }) => {
    const run = () => pairedDifference(treatment, control, 0.05);
    expect(run).toThrow(RangeError);
    expect(run).toThrow(message);
  });

  it("throws a RangeError for alpha outside (0, 1)", () => {
    expect(() => pairedDifference([1, 2], [2, 2], 1.5)).toThrow(/alpha must be in \(0, 1\)/);
  });

  it("excludes 0 from the interval exactly when the two-sided test rejects at the same alpha", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(score, score), { minLength: 2, maxLength: 60 }),
        fc.constantFrom(0.01, 0.05, 0.1),
        (pairs, alpha) => {
          const r = pairedDifference(
            pairs.map(([t]) => t),
            pairs.map(([, c]) => c),
            alpha,
          );
          expect(r.ci[0]).toBeLessThanOrEqual(r.meanDiff);
          expect(r.ci[1]).toBeGreaterThanOrEqual(r.meanDiff);
          expect(r.pValue).toBeGreaterThanOrEqual(0);
          expect(r.pValue).toBeLessThanOrEqual(1);
          // Skip p-values within rounding of alpha, where the two sides may disagree by an ulp.
          if (Math.abs(r.pValue - alpha) > 1e-9) {
            expect(r.pValue < alpha).toBe(r.ci[0] > 0 || r.ci[1] < 0);
          }
        },
      ),
    );
  });

  it("negates the difference and mirrors the interval when the arms swap", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(score, score), { minLength: 2, maxLength: 60 }), (pairs) => {
        const t = pairs.map(([x]) => x);
        const c = pairs.map(([, y]) => y);
        const r = pairedDifference(t, c, 0.05);
        const s = pairedDifference(c, t, 0.05);
        expect(s.meanDiff).toBeCloseTo(-r.meanDiff, 12);
        expect(s.se).toBeCloseTo(r.se, 12);
        expect(s.ci[0]).toBeCloseTo(-r.ci[1], 12);
        expect(s.pValue).toBeCloseTo(r.pValue, 12);
      }),
    );
  });
});
