/**
 * CUPED: variance reduction with a pre-experiment covariate (Deng, Xu, Kohavi & Walker 2013,
 * "Improving the Sensitivity of Online Controlled Experiments by Utilizing Pre-Experiment Data").
 *
 * Each unit's metric Y is replaced by Y − θ(X − X̄), where X is the same unit's value before the
 * experiment and X̄ the pooled mean over both arms. Randomisation makes X independent of the
 * assignment, so the adjustment leaves the effect unbiased and removes the share of Var(Y) that X
 * explains (ρ² at the optimal θ = Cov(X, Y)/Var(X)).
 *
 * Everything here is computed from per-arm summaries exactly as it would be row by row: θ from the
 * pooled-sample covariance and variance, then Welch's test on the adjusted summaries. θ and X̄ are
 * treated as fixed, as in the paper; their estimation error is of smaller order than the effect's.
 */
import type { EffectEstimate, TestOptions } from "./effect.ts";
import { checkMeanSummary, type MeanSummary, welchTTestAs } from "./welch.ts";

/** One arm's metric Y and pre-period covariate X: means and sample (co)variances (ddof = 1). */
export interface CovariateSummary {
  n: number;
  meanY: number;
  meanX: number;
  varY: number;
  varX: number;
  covXY: number;
}

/** Welch's test on CUPED-adjusted values, with the adjustment that produced it. */
export interface CupedResult extends EffectEstimate {
  /** Pooled regression coefficient Cov(X, Y)/Var(X); 0 when X is constant over both arms. */
  theta: number;
  /**
   * Fraction by which the adjustment shrank the variance of the effect estimate,
   * 1 − se²(adjusted)/se²(unadjusted): the share of sample size CUPED saves. Negative if the
   * adjustment hurt (arms whose X–Y relations disagree); 0 when the unadjusted SE is 0.
   */
  varianceReduction: number;
}

// Summaries computed in floating point can overshoot Cauchy–Schwarz by rounding; beyond this
// relative slack the input is inconsistent rather than rounded.
const CAUCHY_SCHWARZ_SLACK = 1e-9;

function checkArm(arm: string, s: CovariateSummary): void {
  checkMeanSummary("cupedTest", arm, { n: s.n, mean: s.meanY, variance: s.varY });
  checkMeanSummary("cupedTest", arm, { n: s.n, mean: s.meanX, variance: s.varX });
  if (!Number.isFinite(s.covXY) || s.covXY ** 2 > s.varX * s.varY * (1 + CAUCHY_SCHWARZ_SLACK)) {
    throw new RangeError(
      `cupedTest: ${arm}.covXY ${s.covXY} is impossible for varX ${s.varX} and varY ${s.varY} ` +
        "(|cov| must not exceed sqrt(varX·varY)); were X and Y summarised over the same units?",
    );
  }
}

/**
 * θ = Cov(X, Y)/Var(X) of the two arms pooled into one sample, rebuilt from per-arm summaries by
 * the parallel-axis decomposition: within-arm sums of squares plus between-arm terms about the
 * pooled means. The pooled mean of X is returned too, as it centres the adjustment.
 */
function pooledTheta(c: CovariateSummary, t: CovariateSummary): { theta: number; meanX: number } {
  const n = c.n + t.n;
  const meanX = (c.n * c.meanX + t.n * t.meanX) / n;
  const meanY = (c.n * c.meanY + t.n * t.meanY) / n;
  const ssx =
    (c.n - 1) * c.varX + c.n * (c.meanX - meanX) ** 2 + (t.n - 1) * t.varX + t.n * (t.meanX - meanX) ** 2;
  const sxy =
    (c.n - 1) * c.covXY +
    c.n * (c.meanX - meanX) * (c.meanY - meanY) +
    (t.n - 1) * t.covXY +
    t.n * (t.meanX - meanX) * (t.meanY - meanY);
  // A constant covariate explains nothing; adjusting by it would divide 0 by 0.
  // A spread so small that it underflows (ssx subnormal, ~1e-320) gives a θ whose square
  // overflows; such a covariate is constant for every practical purpose, so treat it as one.
  const theta = ssx > 0 ? sxy / ssx : 0;
  return { theta: Number.isFinite(theta * theta) ? theta : 0, meanX };
}

function adjusted(s: CovariateSummary, theta: number, pooledMeanX: number): MeanSummary {
  return {
    n: s.n,
    mean: s.meanY - theta * (s.meanX - pooledMeanX),
    // Var(Y − θX) expands exactly; clamp the rounding that can push a perfect fit below 0.
    variance: Math.max(0, s.varY - 2 * theta * s.covXY + theta ** 2 * s.varX),
  };
}

/**
 * CUPED-adjusted Welch test of treatment against control. `control` and `treatment` on the result
 * are the adjusted means. "larger" means treatment > control.
 *
 * Degenerate input: as `welchTTest` for Y and X (n < 2, negative variances throw a RangeError),
 * plus a RangeError for a covariance that no data could produce. A constant covariate gives θ = 0,
 * i.e. the plain Welch test.
 */
export function cupedTest(
  control: CovariateSummary,
  treatment: CovariateSummary,
  opts?: TestOptions,
): CupedResult {
  checkArm("control", control);
  checkArm("treatment", treatment);
  const { theta, meanX } = pooledTheta(control, treatment);
  const result = welchTTestAs(
    "cupedTest",
    adjusted(control, theta, meanX),
    adjusted(treatment, theta, meanX),
    opts,
  );
  const rawVariance = control.varY / control.n + treatment.varY / treatment.n;
  const varianceReduction = rawVariance > 0 ? 1 - result.se ** 2 / rawVariance : 0;
  return { ...result, theta, varianceReduction };
}

/**
 * CUPED when some units have no pre-period value (new users, a short history): those units get the
 * pooled covariate mean, the usual imputation, so their adjustment term is 0 and they count with
 * their raw Y. `all` summarises Y over every unit with a Y; `paired` the units with both values.
 * θ is estimated on the paired units. The adjusted arm is the exact merge (Chan et al.) of the
 * adjusted paired units and the unpaired units, so the result equals adjusting row by row.
 */
export function cupedTestWithMissing(
  control: { all: MeanSummary; paired: CovariateSummary },
  treatment: { all: MeanSummary; paired: CovariateSummary },
  opts?: TestOptions,
): CupedResult {
  if (control.paired.n === control.all.n && treatment.paired.n === treatment.all.n) {
    return cupedTest(control.paired, treatment.paired, opts);
  }
  checkArm("control", control.paired);
  checkArm("treatment", treatment.paired);
  const { theta, meanX } = pooledTheta(control.paired, treatment.paired);
  const arm = (a: { all: MeanSummary; paired: CovariateSummary }): MeanSummary => {
    const p = adjusted(a.paired, theta, meanX);
    const nu = a.all.n - a.paired.n;
    // The unpaired units' moments: the whole minus the paired part (Chan's merge run backwards).
    const meanU = (a.all.n * a.all.mean - a.paired.n * a.paired.meanY) / nu;
    const m2All = (a.all.n - 1) * a.all.variance;
    const m2P = (a.paired.n - 1) * a.paired.varY;
    const m2U = Math.max(0, m2All - m2P - ((a.paired.n * nu) / a.all.n) * (a.paired.meanY - meanU) ** 2);
    // Merge the adjusted paired units with the unpaired ones.
    const d = meanU - p.mean;
    const mean = p.mean + (d * nu) / a.all.n;
    const m2 = (a.paired.n - 1) * p.variance + m2U + (d * d * a.paired.n * nu) / a.all.n;
    return { n: a.all.n, mean, variance: m2 / (a.all.n - 1) };
  };
  const result = welchTTestAs("cupedTest", arm(control), arm(treatment), opts);
  const rawVariance = control.all.variance / control.all.n + treatment.all.variance / treatment.all.n;
  const varianceReduction = rawVariance > 0 ? 1 - result.se ** 2 / rawVariance : 0;
  return { ...result, theta, varianceReduction };
}
