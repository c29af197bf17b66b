import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  emptyMoments,
  emptyPairMoments,
  type Moments,
  mergeMoments,
  mergePairMoments,
  type PairMoments,
  sampleVariance,
} from "../../stats/moments.ts";

const of = (xs: number[]): Moments => {
  const n = xs.length;
  const mean = n === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / n;
  return { n, mean, m2: xs.reduce((a, x) => a + (x - mean) ** 2, 0) };
};
const pairOf = (xs: [number, number][]): PairMoments => {
  const a = of(xs.map((x) => x[0]));
  const b = of(xs.map((x) => x[1]));
  return {
    n: a.n,
    meanA: a.mean,
    meanB: b.mean,
    m2A: a.m2,
    m2B: b.m2,
    c: xs.reduce((s, [x, y]) => s + (x - a.mean) * (y - b.mean), 0),
  };
};
const close = (a: number, b: number, scale: number) =>
  expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, scale));
const value = fc.double({ min: -1e4, max: 1e4, noNaN: true });

describe("mergeMoments", () => {
  it("gives the moments of the concatenated sample, in any split", () => {
    fc.assert(
      fc.property(fc.array(value), fc.array(value), (xs, ys) => {
        const merged = mergeMoments(of(xs), of(ys));
        const whole = of([...xs, ...ys]);
        expect(merged.n).toBe(whole.n);
        close(merged.mean, whole.mean, 1e4);
        close(merged.m2, whole.m2, whole.m2 + 1e8);
      }),
    );
  });

  it("keeps a large mean with a small spread exact where Σx² − n·mean² would cancel", () => {
    const xs = [1e9 + 1, 1e9 + 2, 1e9 + 3];
    const ys = [1e9 + 4, 1e9 + 5];
    expect(sampleVariance(mergeMoments(of(xs), of(ys)))).toBeCloseTo(2.5, 9);
  });

  it("treats an empty side as the identity", () => {
    expect(mergeMoments(emptyMoments(), of([1, 2]))).toEqual(of([1, 2]));
    expect(sampleVariance(of([5]))).toBe(0);
  });
});

describe("mergePairMoments", () => {
  it("gives the co-moment of the concatenated sample", () => {
    const pair = fc.tuple(value, value);
    fc.assert(
      fc.property(fc.array(pair), fc.array(pair), (xs, ys) => {
        const merged = mergePairMoments(pairOf(xs), pairOf(ys));
        const whole = pairOf([...xs, ...ys]);
        expect(merged.n).toBe(whole.n);
        close(merged.c, whole.c, Math.abs(whole.c) + 1e8);
        close(merged.m2B, whole.m2B, whole.m2B + 1e8);
      }),
    );
    expect(mergePairMoments(emptyPairMoments(), pairOf([[1, 2]]))).toEqual(pairOf([[1, 2]]));
  });
});
