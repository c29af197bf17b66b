/**
 * Welch's unequal-variance t test from per-arm summaries, for continuous metrics (tokens, latency,
 * cost, rubric scores).
 *
 * Matches scipy `ttest_ind_from_stats(equal_var=False)` for the statistic and p-value, with the
 * Welch–Satterthwaite degrees of freedom, and statsmodels
 * `CompareMeans(...).tconfint_diff(usevar="unequal")` for the interval (t quantile at that df).
 * The relative-lift interval uses the same t critical value (see `effect.ts`).
 */
import { assembleEstimate, type EffectEstimate, resolveTestOptions, type TestOptions } from "./effect.ts";

/** One arm's sample size, mean and sample variance (ddof = 1). */
export interface MeanSummary {
  n: number;
  mean: number;
  variance: number;
}

/** Rejects summaries a t test cannot use; shared with CUPED, which runs Welch on adjusted data. */
export function checkMeanSummary(test: string, arm: string, s: MeanSummary): void {
  if (!Number.isInteger(s.n) || s.n < 2) {
    throw new RangeError(
      `${test}: ${arm}.n must be an integer ≥ 2 (a sample variance needs two units), got ${s.n}`,
    );
  }
  if (!Number.isFinite(s.mean)) {
    throw new RangeError(`${test}: ${arm}.mean must be finite, got ${s.mean}`);
  }
  if (!(Number.isFinite(s.variance) && s.variance >= 0)) {
    throw new RangeError(`${test}: ${arm}.variance must be finite and ≥ 0, got ${s.variance}`);
  }
}

/**
 * Welch–Satterthwaite degrees of freedom from the variances of the two means. With both variances
 * 0 the formula is 0/0; the pooled n_c + n_t − 2 is used, which only matters for the degenerate
 * equal-means case reported with p = 1.
 */
function welchDf(vc: number, nc: number, vt: number, nt: number): number {
  const total = vc + vt;
  if (total === 0) return nc + nt - 2;
  // (vc + vt)² / (vc²/(nc − 1) + vt²/(nt − 1)) written with shares of the total, so tiny variances
  // cannot underflow the squares to 0/0.
  const wc = vc / total;
  const wt = vt / total;
  return 1 / (wc ** 2 / (nc - 1) + wt ** 2 / (nt - 1));
}

/**
 * Welch's t test of treatment's mean against control's. "larger" means treatment > control.
 *
 * Degenerate input: n < 2, a non-finite mean or a negative variance throw a RangeError. Zero
 * variance in both arms gives statistic 0 and p = 1 when the means are equal and throws a
 * RangeError when they differ (a noiseless difference cannot be tested). Zero variance in one arm
 * only is fine: the df falls to the other arm's n − 1.
 */
export function welchTTest(control: MeanSummary, treatment: MeanSummary, opts?: TestOptions): EffectEstimate {
  return welchTTestAs("welchTTest", control, treatment, opts);
}

/** `welchTTest` whose error messages name `caller`, for tests built on it (CUPED). */
export function welchTTestAs(
  caller: string,
  control: MeanSummary,
  treatment: MeanSummary,
  opts?: TestOptions,
): EffectEstimate {
  checkMeanSummary(caller, "control", control);
  checkMeanSummary(caller, "treatment", treatment);
  const { alpha, alternative } = resolveTestOptions(opts);
  const vc = control.variance / control.n;
  const vt = treatment.variance / treatment.n;
  const df = welchDf(vc, control.n, vt, treatment.n);
  return assembleEstimate(
    caller,
    { control: control.mean, treatment: treatment.mean, varControl: vc, varTreatment: vt },
    { alpha, alternative, df },
  );
}
