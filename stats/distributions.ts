/**
 * The probability distributions the statistics engine needs, as plain functions.
 *
 * Thin wrappers over stdlib's distribution packages (ports of Cephes/Boost, accurate to a few ulps
 * in the tails) so every module spells them the same way and none hand-rolls an erf or an
 * incomplete beta.
 */

import gammainc from "@stdlib/math-base-special-gammainc";
import betaCdfImpl from "@stdlib/stats-base-dists-beta-cdf";
import betaQuantileImpl from "@stdlib/stats-base-dists-beta-quantile";
import normalCdfImpl from "@stdlib/stats-base-dists-normal-cdf";
import normalQuantileImpl from "@stdlib/stats-base-dists-normal-quantile";
import tCdfImpl from "@stdlib/stats-base-dists-t-cdf";
import tQuantileImpl from "@stdlib/stats-base-dists-t-quantile";

/** Standard normal CDF Φ(x). */
export function normCdf(x: number): number {
  return normalCdfImpl(x, 0, 1);
}

/** Standard normal upper tail 1 − Φ(x), computed as Φ(−x) to keep precision far in the tail. */
export function normSf(x: number): number {
  return normalCdfImpl(-x, 0, 1);
}

/** Standard normal quantile Φ⁻¹(p). */
export function normQuantile(p: number): number {
  return normalQuantileImpl(p, 0, 1);
}

/** Standard normal density φ(x). */
export function normPdf(x: number): number {
  return Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
}

/** Student t CDF with `df` degrees of freedom (df may be fractional, as Welch's is). */
export function tCdf(x: number, df: number): number {
  return tCdfImpl(x, df);
}

/** Student t upper tail, computed through the symmetric lower tail for precision. */
export function tSf(x: number, df: number): number {
  return tCdfImpl(-x, df);
}

/** Student t quantile. */
export function tQuantile(p: number, df: number): number {
  return tQuantileImpl(p, df);
}

/** Chi-square upper tail P(X ≥ x) with `df` degrees of freedom. */
export function chisqSf(x: number, df: number): number {
  if (x <= 0) return 1;
  // The regularized upper incomplete gamma keeps precision where 1 − CDF would cancel to 0.
  return gammainc(x / 2, df / 2, true, true);
}

/** Beta(a, b) CDF. */
export function betaCdf(x: number, a: number, b: number): number {
  return betaCdfImpl(x, a, b);
}

/** Beta(a, b) quantile. */
export function betaQuantile(p: number, a: number, b: number): number {
  return betaQuantileImpl(p, a, b);
}

/** Two-sided p-value of a standard normal statistic. */
export function twoSidedNormalP(z: number): number {
  return Math.min(1, 2 * normSf(Math.abs(z)));
}
