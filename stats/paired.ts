/**
 * Paired difference of rubric scores: treatment and control answered the same golden cases, so
 * each case's score difference removes how hard the case is, and the one-sample t test on those
 * differences is far tighter than comparing two independent means.
 */
import { tQuantile, tSf } from "./distributions.ts";
import type { Interval } from "./effect.ts";

/** Mean of treatment − control over paired cases, with its t interval and test. */
export interface PairedDiff {
  /** Number of pairs. */
  n: number;
  /** Mean of (treatment − control). */
  meanDiff: number;
  /** Standard error of the mean difference: sample SD (ddof = 1) / √n. */
  se: number;
  /** n − 1. */
  df: number;
  /** Two-sided 1 − alpha t interval of the mean difference. */
  ci: Interval;
  /** Two-sided p-value of H0: mean difference = 0. */
  pValue: number;
}

/**
 * Paired t test of `treatment` against `control`, element i of each being the same case. Matches
 * scipy `ttest_rel(treatment, control)` for the p-value and statsmodels
 * `DescrStatsW(treatment − control).tconfint_mean(alpha)` for the interval.
 *
 * When every difference is exactly equal (say each case's score rose by one point) there is no
 * spread to test against: se is 0, the interval is [d, d], and the p-value is 0 if d ≠ 0 and 1 if
 * d = 0 (scipy gives p = 0 and NaN respectively).
 *
 * Throws a RangeError when the lists differ in length, hold fewer than two pairs (a sample
 * variance needs two), hold a non-finite score, or alpha is outside (0, 1).
 */
export function pairedDifference(
  treatment: readonly number[],
  control: readonly number[],
  alpha: number,
): PairedDiff {
  if (!(alpha > 0 && alpha < 1))
    throw new RangeError(`pairedDifference: alpha must be in (0, 1), got ${alpha}`);
  if (treatment.length !== control.length) {
    throw new RangeError(
      `pairedDifference: treatment has ${treatment.length} scores but control has ${control.length}; each case needs both`,
    );
  }
  const n = treatment.length;
  if (n < 2) {
    throw new RangeError(`pairedDifference: needs at least 2 paired cases to estimate a variance, got ${n}`);
  }
  const d = treatment.map((t, i) => {
    const c = control[i]!;
    if (!Number.isFinite(t))
      throw new RangeError(`pairedDifference: treatment[${i}] must be finite, got ${t}`);
    if (!Number.isFinite(c)) throw new RangeError(`pairedDifference: control[${i}] must be finite, got ${c}`);
    return t - c;
  });
  const df = n - 1;
  const first = d[0]!;
  if (d.every((x) => x === first)) {
    return { n, meanDiff: first, se: 0, df, ci: [first, first], pValue: first === 0 ? 1 : 0 };
  }
  let sum = 0;
  for (const x of d) sum += x;
  const meanDiff = sum / n;
  // Two passes: centring first keeps the variance exact when differences sit far from 0.
  let m2 = 0;
  for (const x of d) m2 += (x - meanDiff) ** 2;
  const se = Math.sqrt(m2 / df / n);
  const half = tQuantile(1 - alpha / 2, df) * se;
  const pValue = Math.min(1, 2 * tSf(Math.abs(meanDiff / se), df));
  return { n, meanDiff, se, df, ci: [meanDiff - half, meanDiff + half], pValue };
}
