/**
 * Ratio metrics by the delta method: metrics whose denominator is not the randomisation unit, such
 * as errors per request or tokens per turn when units are conversations. Requests within one
 * conversation are correlated, so treating them as independent understates the variance; the delta
 * method keeps the conversation as the unit (Deng, Knoblich & Lu 2018, "Applying the Delta Method
 * in Metric Analytics", KDD).
 *
 * For one arm with unit-level numerator Y and denominator X, R = Ȳ/X̄ and
 *   Var(R) ≈ (σ²_y/μ_x² − 2μ_y·σ_xy/μ_x³ + μ_y²·σ²_x/μ_x⁴) / n.
 * The arms are independent, so the effect R_t − R_c has variance Var(R_t) + Var(R_c) and is
 * referred to the standard normal.
 */
import { assembleEstimate, type EffectEstimate, resolveTestOptions, type TestOptions } from "./effect.ts";

/** One arm's unit-level means and sample (co)variances (ddof = 1) of numerator and denominator. */
export interface RatioSummary {
  n: number;
  meanNumerator: number;
  meanDenominator: number;
  varNumerator: number;
  varDenominator: number;
  covariance: number;
}

// Summaries computed in floating point can overshoot Cauchy–Schwarz by rounding; beyond this
// relative slack the input is inconsistent rather than rounded.
const CAUCHY_SCHWARZ_SLACK = 1e-9;

function checkArm(arm: string, s: RatioSummary): void {
  const where = `ratioDeltaTest: ${arm}`;
  if (!Number.isInteger(s.n) || s.n < 2) {
    throw new RangeError(`${where}.n must be an integer ≥ 2 (sample variances need two units), got ${s.n}`);
  }
  for (const key of ["meanNumerator", "meanDenominator", "covariance"] as const) {
    if (!Number.isFinite(s[key])) throw new RangeError(`${where}.${key} must be finite, got ${s[key]}`);
  }
  for (const key of ["varNumerator", "varDenominator"] as const) {
    if (!(Number.isFinite(s[key]) && s[key] >= 0)) {
      throw new RangeError(`${where}.${key} must be finite and ≥ 0, got ${s[key]}`);
    }
  }
  if (s.meanDenominator === 0) {
    throw new RangeError(`${where}.meanDenominator is 0: the ratio is undefined (no denominator events)`);
  }
  const bound = s.varNumerator * s.varDenominator;
  if (s.covariance ** 2 > bound * (1 + CAUCHY_SCHWARZ_SLACK)) {
    throw new RangeError(
      `${where}.covariance ${s.covariance} is impossible for variances ${s.varNumerator} and ${s.varDenominator} ` +
        "(|cov| must not exceed sqrt(varNumerator·varDenominator)); were the summaries computed from the same units?",
    );
  }
}

/**
 * The ratio of means of one arm and the delta-method variance of that ratio. The bracket equals
 * the variance of Y − R·X, which is ≥ 0 for any valid covariance; it is clamped at 0 so rounding
 * cannot make it negative.
 */
export function ratioEstimate(s: RatioSummary): { ratio: number; variance: number } {
  const mx = s.meanDenominator;
  const my = s.meanNumerator;
  const unitVariance =
    s.varNumerator / mx ** 2 - (2 * my * s.covariance) / mx ** 3 + (my ** 2 * s.varDenominator) / mx ** 4;
  return { ratio: my / mx, variance: Math.max(0, unitVariance) / s.n };
}

/**
 * Delta-method z test of treatment's ratio metric against control's. "larger" means
 * treatment > control. The relative-lift interval is the plain-ratio delta method on R_t / R_c.
 *
 * Degenerate input: n < 2, a zero mean denominator, negative variances or an impossible covariance
 * throw a RangeError. If the ratio is constant within both arms (zero delta-method variance) the
 * result is p = 1 when the ratios are equal and a RangeError when they differ, as in `assembleEstimate`.
 */
export function ratioDeltaTest(
  control: RatioSummary,
  treatment: RatioSummary,
  opts?: TestOptions,
): EffectEstimate {
  checkArm("control", control);
  checkArm("treatment", treatment);
  const { alpha, alternative } = resolveTestOptions(opts);
  const c = ratioEstimate(control);
  const t = ratioEstimate(treatment);
  return assembleEstimate(
    "ratioDeltaTest",
    { control: c.ratio, treatment: t.ratio, varControl: c.variance, varTreatment: t.variance },
    { alpha, alternative },
  );
}
