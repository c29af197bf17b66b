import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { spearman } from "../../stats/rank-correlation.ts";
import { loadFixture } from "../helpers/reference.ts";

interface SpearmanCase {
  name: string;
  x: number[];
  y: number[];
  n: number;
  rho: number;
  pValue: number;
}

const reference = loadFixture<{ spearman: SpearmanCase[] }>("gate_stats_reference.json");

/** Within 1e-9 relative of scipy. */
function expectNear(actual: number, expected: number): void {
  expect(Math.abs(actual - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(
    1e-9 * Math.abs(expected),
  );
}

// Few distinct values, so ties are common (win scores and rounded length differences are like this).
const pairs = fc.array(fc.tuple(fc.integer({ min: -5, max: 5 }), fc.integer({ min: -5, max: 5 })), {
  minLength: 3,
  maxLength: 80,
});

describe("spearman", () => {
  it.each(reference.spearman)("matches scipy spearmanr on $name", (c) => {
    const r = spearman(c.x, c.y);
    expect(r.n).toBe(c.n);
    expectNear(r.rho, c.rho);
    expectNear(r.pValue, c.pValue);
  });

  it.each([
    { name: "increasing", y: [1, 4, 9, 16, 25], rho: 1 },
    { name: "decreasing", y: [10, 8, 6, 4, 2], rho: -1 },
  ])("gives rho $rho and p = 0 for a perfectly $name relation", ({ y, rho }) => {
    expect(spearman([1, 2, 3, 4, 5], y)).toEqual({ n: 5, rho, pValue: 0 });
  });

  it("ranks ties by their average rank: tied x with a monotone y is below 1", () => {
    const r = spearman([1, 1, 2, 3], [1, 2, 3, 4]);
    // Ranks of x are 1.5, 1.5, 3, 4; centred at 2.5 against y's 1..4: Sxy = 4.5, Sxx = 4.5, Syy = 5.
    // (The no-ties shortcut 1 − 6Σd² / (n(n² − 1)) would give 0.95 instead.)
    expect(r.rho).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 14);
  });

  it.each([
    { name: "x is constant", x: [2, 2, 2, 2], y: [1, 2, 3, 4] },
    { name: "y is constant (every case a tie)", x: [-120, 40, 300, 10], y: [0.5, 0.5, 0.5, 0.5] },
  ])("returns NaN rho and p, as scipy does, when $name", ({ x, y }) => {
    const r = spearman(x, y);
    expect(r.n).toBe(4);
    expect(r.rho).toBeNaN();
    expect(r.pValue).toBeNaN();
  });

  it.each([
    { name: "two pairs", x: [1, 2], y: [2, 1], message: /at least 3 pairs .*got 2/ },
    { name: "lists of different lengths", x: [1, 2, 3], y: [1, 2], message: /x has 3 values but y has 2/ },
    { name: "a NaN", x: [1, 2, 3], y: [1, Number.NaN, 3], message: /y\[1\] must be finite/ },
    {
      name: "an infinity",
      x: [1, Number.NEGATIVE_INFINITY, 3],
      y: [1, 2, 3],
      message: /x\[1\] must be finite/,
    },
  ])("throws a RangeError for $name", ({ x, y, message }) => {
    const run = () => spearman(x, y);
    expect(run).toThrow(RangeError);
    expect(run).toThrow(message);
  });

  it("is symmetric in x and y and bounded by ±1", () => {
    fc.assert(
      fc.property(pairs, (xy) => {
        const x = xy.map(([a]) => a);
        const y = xy.map(([, b]) => b);
        const r = spearman(x, y);
        const s = spearman(y, x);
        expect(s.rho).toBe(r.rho);
        expect(s.pValue).toBe(r.pValue);
        if (Number.isNaN(r.rho)) return;
        expect(Math.abs(r.rho)).toBeLessThanOrEqual(1);
        expect(r.pValue).toBeGreaterThanOrEqual(0);
        expect(r.pValue).toBeLessThanOrEqual(1);
      }),
    );
  });

  it("depends only on ranks: a monotone transform of x changes nothing, a reversal flips the sign", () => {
    fc.assert(
      fc.property(pairs, (xy) => {
        const x = xy.map(([a]) => a);
        const y = xy.map(([, b]) => b);
        const r = spearman(x, y);
        const transformed = spearman(
          x.map((v) => Math.exp(v) + 3),
          y,
        );
        const reversed = spearman(
          x.map((v) => -v),
          y,
        );
        if (Number.isNaN(r.rho)) {
          expect(transformed.rho).toBeNaN();
          return;
        }
        expect(transformed.rho).toBe(r.rho);
        expect(reversed.rho).toBeCloseTo(-r.rho, 14);
      }),
    );
  });
});
