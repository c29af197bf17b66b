/**
 * Mergeable sample moments: count, means, centred sums of squares and co-moments, combined with
 * the pairwise update of Chan, Golub & LeVeque (1979). Summing Σx and Σx² instead would cancel
 * catastrophically for metrics with a large mean and a small spread; this merge stays exact to a
 * few ulps, so cells computed apart (per segment, per phase) add up to the same moments as one pass.
 */

/** Moments of one variable: n, mean and M2 = Σ(x − mean)². */
export interface Moments {
  n: number;
  mean: number;
  m2: number;
}

/** Moments of a pair observed together: both means, both M2 and the co-moment C = Σ(x − x̄)(y − ȳ). */
export interface PairMoments {
  n: number;
  meanA: number;
  meanB: number;
  m2A: number;
  m2B: number;
  c: number;
}

export const emptyMoments = (): Moments => ({ n: 0, mean: 0, m2: 0 });
export const emptyPairMoments = (): PairMoments => ({ n: 0, meanA: 0, meanB: 0, m2A: 0, m2B: 0, c: 0 });

export function mergeMoments(a: Moments, b: Moments): Moments {
  if (b.n === 0) return a;
  if (a.n === 0) return b;
  const n = a.n + b.n;
  const d = b.mean - a.mean;
  return { n, mean: a.mean + (d * b.n) / n, m2: a.m2 + b.m2 + (d * d * a.n * b.n) / n };
}

export function mergePairMoments(a: PairMoments, b: PairMoments): PairMoments {
  if (b.n === 0) return a;
  if (a.n === 0) return b;
  const n = a.n + b.n;
  const dA = b.meanA - a.meanA;
  const dB = b.meanB - a.meanB;
  const w = (a.n * b.n) / n;
  return {
    n,
    meanA: a.meanA + (dA * b.n) / n,
    meanB: a.meanB + (dB * b.n) / n,
    m2A: a.m2A + b.m2A + dA * dA * w,
    m2B: a.m2B + b.m2B + dB * dB * w,
    c: a.c + b.c + dA * dB * w,
  };
}

/** Sample variance (ddof = 1); 0 below two observations. */
export const sampleVariance = (m: Moments): number => (m.n < 2 ? 0 : m.m2 / (m.n - 1));
