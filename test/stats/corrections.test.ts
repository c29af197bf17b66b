import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { adjustPValues, type Correction } from "../../stats/corrections.ts";
import reference from "../fixtures/misc-reference.json" with { type: "json" };

const METHODS = ["bonferroni", "holm", "benjamini-hochberg"] as const;
const ALL_METHODS: Correction[] = ["none", ...METHODS];

describe("adjustPValues", () => {
  it("adjusts the article's four metrics with Benjamini-Hochberg to 0.004, 0.040, 0.160, 0.420", () => {
    const adjusted = adjustPValues([0.001, 0.02, 0.12, 0.42], "benjamini-hochberg");
    [0.004, 0.04, 0.16, 0.42].forEach((want, i) => {
      expect(adjusted[i]).toBeCloseTo(want, 15);
    });
  });

  const cases = reference.corrections.flatMap((c) =>
    METHODS.map((method) => ({ name: c.name, method, pValues: c.pValues, want: c.adjusted[method] })),
  );
  it.each(cases)("matches statsmodels multipletests for $method on $name", ({ method, pValues, want }) => {
    const got = adjustPValues(pValues, method);
    expect(got).toHaveLength(want.length);
    want.forEach((w, i) => {
      expect(got[i]).toBeCloseTo(w, 15);
    });
  });

  it("returns a copy of the input unchanged for none", () => {
    const input = [0.3, 0.01, 1];
    const got = adjustPValues(input, "none");
    expect(got).toEqual(input);
    expect(got).not.toBe(input);
  });

  it.each(ALL_METHODS)("returns an empty list for empty input with %s", (method) => {
    expect(adjustPValues([], method)).toEqual([]);
  });

  it.each([
    { pValues: [0.1, 0.2, Number.NaN], index: 2 },
    { pValues: [-0.01], index: 0 },
    { pValues: [0.5, 1.5], index: 1 },
  ])("rejects $pValues with a RangeError naming index $index", ({ pValues, index }) => {
    for (const method of ALL_METHODS) {
      expect(() => adjustPValues(pValues, method)).toThrow(RangeError);
      expect(() => adjustPValues(pValues, method)).toThrow(`pValues[${index}]`);
    }
  });

  it("rejects an unknown method read from untyped config", () => {
    expect(() => adjustPValues([0.1], "sidak" as Correction)).toThrow(/unknown correction "sidak"/);
  });

  it("never lowers a p-value, never exceeds 1, keeps the order, and ranks BH ≤ Holm ≤ Bonferroni", () => {
    const pValue = fc.double({ min: 0, max: 1, noNaN: true });
    fc.assert(
      fc.property(fc.array(pValue, { minLength: 1, maxLength: 30 }), (pValues) => {
        const bh = adjustPValues(pValues, "benjamini-hochberg");
        const holm = adjustPValues(pValues, "holm");
        const bonferroni = adjustPValues(pValues, "bonferroni");
        pValues.forEach((p, i) => {
          for (const adjusted of [bh, holm, bonferroni]) {
            expect(adjusted[i]).toBeGreaterThanOrEqual(p);
            expect(adjusted[i]).toBeLessThanOrEqual(1);
          }
          expect(bh[i]).toBeLessThanOrEqual(holm[i]! * (1 + 1e-12));
          expect(holm[i]).toBeLessThanOrEqual(bonferroni[i]! * (1 + 1e-12));
          pValues.forEach((q, j) => {
            if (p < q) {
              for (const adjusted of [bh, holm, bonferroni])
                expect(adjusted[i]).toBeLessThanOrEqual(adjusted[j]!);
            }
          });
        });
      }),
      { seed: 20240501, numRuns: 200 },
    );
  });
});
