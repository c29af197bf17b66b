/**
 * Spearman's rank correlation, for the gate's verbosity-bias check: do pairwise wins track how
 * much longer treatment's answer was? Judges are known to prefer longer answers; a strong rank
 * correlation between per-case win scores and length differences says the win rate may be
 * measuring length. Ranks make the check indifferent to the scale of either variable and to the
 * heavy tail of length differences.
 */
import { tSf } from "./distributions.ts";

/** Spearman's rho and its two-sided p-value. */
export interface RankCorrelation {
  /** Number of pairs. */
  n: number;
  /** Pearson correlation of the average ranks, in [−1, 1]; NaN when either input is constant. */
  rho: number;
  /** Two-sided p-value of rho = 0 from the t approximation on n − 2 df; NaN when rho is. */
  pValue: number;
}

/**
 * Spearman's rho of `x` and `y` (element i of each being one case), with tied values given their
 * average rank, and the two-sided p-value of t = rho·√((n − 2) / (1 − rho²)) on n − 2 degrees of
 * freedom. Matches scipy `spearmanr(x, y)` (correlation and pvalue); |rho| = 1 gives p = 0 as
 * scipy does.
 *
 * A constant input has no ranks to correlate: rho and pValue are NaN, as scipy returns them (with
 * its ConstantInputWarning), so a report can say "undefined" (e.g. every case a tie) instead of
 * failing. NaN becomes null in JSON; callers that gate on it must treat NaN explicitly.
 *
 * Throws a RangeError when the lists differ in length, hold fewer than 3 pairs (the t
 * approximation has n − 2 df) or hold a non-finite value.
 */
export function spearman(x: readonly number[], y: readonly number[]): RankCorrelation {
  if (x.length !== y.length) {
    throw new RangeError(`spearman: x has ${x.length} values but y has ${y.length}; each case needs both`);
  }
  const n = x.length;
  if (n < 3) throw new RangeError(`spearman: needs at least 3 pairs for the t approximation, got ${n}`);
  checkFinite("x", x);
  checkFinite("y", y);
  const rx = averageRanks(x);
  const ry = averageRanks(y);
  // Average ranks always have mean (n + 1) / 2, so centring is exact.
  const centre = (n + 1) / 2;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = rx[i]! - centre;
    const dy = ry[i]! - centre;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return { n, rho: Number.NaN, pValue: Number.NaN };
  const rho = Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
  const df = n - 2;
  if (Math.abs(rho) === 1) return { n, rho, pValue: 0 };
  const t = rho * Math.sqrt(df / ((1 + rho) * (1 - rho)));
  return { n, rho, pValue: Math.min(1, 2 * tSf(Math.abs(t), df)) };
}

/** Ranks 1..n, each run of tied values sharing the mean of the ranks it spans (scipy `rankdata`'s "average"). */
function averageRanks(v: readonly number[]): number[] {
  const order = v.map((_, i) => i).sort((i, j) => v[i]! - v[j]!);
  const ranks = new Array<number>(v.length);
  let start = 0;
  while (start < order.length) {
    let end = start + 1;
    while (end < order.length && v[order[end]!] === v[order[start]!]) end++;
    // Positions start..end−1 hold ranks start+1..end; their mean is (start + 1 + end) / 2.
    const rank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    start = end;
  }
  return ranks;
}

function checkFinite(name: string, v: readonly number[]): void {
  v.forEach((value, i) => {
    if (!Number.isFinite(value)) throw new RangeError(`spearman: ${name}[${i}] must be finite, got ${value}`);
  });
}
