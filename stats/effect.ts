/**
 * The result every two-arm test returns, and the pieces they share: p-values and intervals against
 * a normal or Student t reference, and the delta-method interval for the relative lift.
 *
 * Conventions shared by all tests in `stats/`:
 * - "larger" means the alternative treatment > control, "smaller" treatment < control.
 * - Intervals follow the alternative, as statsmodels' `tconfint_diff` does: two-sided tests give a
 *   two-sided 1 − α interval, one-sided tests a one-sided bound with ±Infinity on the open side, so
 *   the interval excludes 0 exactly when the test on the same standard error rejects.
 * - When the control mean is 0 the relative lift is undefined; `relativeLift` and `relativeCi` are
 *   NaN while every absolute field stays valid (an error rate of 0 in control is common).
 */
import { normCdf, normQuantile, normSf, tCdf, tQuantile, tSf, twoSidedNormalP } from "./distributions.ts";

/** A closed interval `[lo, hi]`; a one-sided bound uses ±Infinity for its open end. */
export type Interval = [lo: number, hi: number];

/** Alternative hypothesis of a two-arm test, stated for treatment relative to control. */
export type TestAlternative = "two-sided" | "larger" | "smaller";

/** What a two-arm test reports about treatment versus control. */
export interface EffectEstimate {
  /** Control mean (proportion for binary, ratio for ratio metrics, adjusted mean for CUPED). */
  control: number;
  /** Treatment mean, on the same scale as `control`. */
  treatment: number;
  /** treatment − control. */
  effect: number;
  /** Standard error of `effect` used for the interval. */
  se: number;
  /** z or t statistic. */
  statistic: number;
  /** Degrees of freedom, present for t tests only. */
  df?: number;
  /** p-value under the test's alternative (two-sided unless the caller asked otherwise). */
  pValue: number;
  /** Interval for the absolute effect at confidence 1 − alpha. */
  ci: Interval;
  /** effect / control; NaN when control is 0. */
  relativeLift: number;
  /** Delta-method interval for treatment / control − 1; NaN ends when control is 0. */
  relativeCi: Interval;
}

/** Options every two-arm test accepts. */
export interface TestOptions {
  /** Significance level; the interval has confidence 1 − alpha. Default 0.05. */
  alpha?: number;
  /** Default "two-sided". */
  alternative?: TestAlternative;
}

/**
 * The distribution a statistic is referred to: the standard normal when `df` is absent, else
 * Student t with `df` degrees of freedom.
 */
export interface Reference {
  alpha: number;
  alternative: TestAlternative;
  df?: number;
}

/** Two independent arm estimates and the sampling variances of those estimates (squared SEs). */
export interface ArmEstimates {
  control: number;
  treatment: number;
  varControl: number;
  varTreatment: number;
}

// Relative gap below which two computed means count as equal: a few ulps of rounding, not signal.
const ROUNDING = 8 * Number.EPSILON;

const ALTERNATIVES: readonly TestAlternative[] = ["two-sided", "larger", "smaller"];

/** Applies the defaults (alpha 0.05, two-sided) and rejects values no test can use. */
export function resolveTestOptions(opts: TestOptions = {}): { alpha: number; alternative: TestAlternative } {
  const alpha = opts.alpha ?? 0.05;
  const alternative = opts.alternative ?? "two-sided";
  if (!(alpha > 0 && alpha < 1)) {
    throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  }
  if (!ALTERNATIVES.includes(alternative)) {
    throw new RangeError(`alternative must be one of ${ALTERNATIVES.join(", ")}, got ${String(alternative)}`);
  }
  return { alpha, alternative };
}

/** p-value of `statistic` under the reference distribution and alternative. */
export function pValue(statistic: number, ref: Reference): number {
  const { df, alternative } = ref;
  if (df === undefined) {
    if (alternative === "larger") return normSf(statistic);
    if (alternative === "smaller") return normCdf(statistic);
    return twoSidedNormalP(statistic);
  }
  if (alternative === "larger") return tSf(statistic, df);
  if (alternative === "smaller") return tCdf(statistic, df);
  return Math.min(1, 2 * tSf(Math.abs(statistic), df));
}

/** The positive critical value: the 1 − α/2 quantile for two-sided tests, 1 − α for one-sided. */
export function criticalValue(ref: Reference): number {
  const tail = ref.alternative === "two-sided" ? ref.alpha / 2 : ref.alpha;
  // Taking the lower quantile and negating keeps precision for very small alpha.
  return ref.df === undefined ? -normQuantile(tail) : -tQuantile(tail, ref.df);
}

/** Interval `estimate ± critical·se`, one-sided when the alternative is. */
export function confidenceInterval(estimate: number, se: number, ref: Reference): Interval {
  const half = criticalValue(ref) * se;
  if (ref.alternative === "larger") return [estimate - half, Number.POSITIVE_INFINITY];
  if (ref.alternative === "smaller") return [Number.NEGATIVE_INFINITY, estimate + half];
  return [estimate - half, estimate + half];
}

/**
 * Delta-method interval for the relative lift treatment/control − 1, on the plain ratio (not the
 * log ratio), so it works for means of any sign and its centre equals the reported lift:
 * Var(T/C) ≈ Var(T)/C² + T²·Var(C)/C⁴ − 2T·Cov(T, C)/C³.
 * `covariance` is the covariance of the two estimates (default 0: independent arms).
 * Returns NaN ends when the control mean is 0.
 */
export function relativeLiftInterval(
  means: ArmEstimates & { covariance?: number },
  ref: Reference,
): Interval {
  const { control: c, treatment: t, varControl, varTreatment, covariance = 0 } = means;
  if (c === 0) return [Number.NaN, Number.NaN];
  const variance = varTreatment / c ** 2 + (t ** 2 * varControl) / c ** 4 - (2 * t * covariance) / c ** 3;
  return confidenceInterval((t - c) / c, Math.sqrt(Math.max(0, variance)), ref);
}

/**
 * Builds the full estimate from two independent arm estimates. The standard error of the effect is
 * sqrt(varControl + varTreatment). `statistic` overrides effect/se when the test standardises with
 * a different SE (the pooled z test).
 *
 * A zero standard error is degenerate. Equal means (to within a few ulps, since adjusted means are
 * computed) give statistic 0 and p-value 1: there is nothing to detect. Different means would be a
 * difference with no noise, which no test can grade, so that throws a RangeError naming `what`
 * instead of returning an infinite statistic.
 */
export function assembleEstimate(
  what: string,
  means: ArmEstimates,
  ref: Reference,
  statistic?: number,
): EffectEstimate {
  const effect = means.treatment - means.control;
  const se = Math.sqrt(means.varControl + means.varTreatment);
  let stat = statistic;
  if (stat === undefined) {
    if (se > 0) stat = effect / se;
    else if (Math.abs(effect) <= ROUNDING * Math.max(Math.abs(means.control), Math.abs(means.treatment))) {
      stat = 0;
    } else {
      throw new RangeError(
        `${what}: both arms have zero variance but different means (${means.control} vs ${means.treatment}); ` +
          "the difference carries no noise to test against — check that the metric is not constant within an arm",
      );
    }
  }
  const estimate: EffectEstimate = {
    control: means.control,
    treatment: means.treatment,
    effect,
    se,
    statistic: stat,
    pValue: pValue(stat, ref),
    ci: confidenceInterval(effect, se, ref),
    relativeLift: means.control === 0 ? Number.NaN : effect / means.control,
    relativeCi: relativeLiftInterval(means, ref),
  };
  if (ref.df !== undefined) estimate.df = ref.df;
  return estimate;
}
