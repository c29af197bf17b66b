/**
 * Two-proportion z test for binary metrics (resolved / not resolved, thumbs up / down).
 *
 * Matches statsmodels: the z statistic and p-value are `proportions_ztest` (SE from the pooled
 * proportion, which is the variance under H0); the interval for the difference is the unpooled Wald
 * interval of `confint_proportions_2indep(method="wald", compare="diff")`, since under H1 the arms
 * have different variances. The relative-lift interval is the plain-ratio delta method of
 * `relativeLiftInterval` with the unpooled arm variances p(1 − p)/n.
 */
import { normQuantile } from "./distributions.ts";
import {
  assembleEstimate,
  type EffectEstimate,
  type Interval,
  resolveTestOptions,
  type TestOptions,
} from "./effect.ts";

/** Count of successes out of `n` units in one arm. */
export interface ProportionSummary {
  n: number;
  successes: number;
}

function checkArm(arm: string, s: ProportionSummary): void {
  if (!Number.isInteger(s.n) || s.n < 1) {
    throw new RangeError(`twoProportionZTest: ${arm}.n must be a positive integer, got ${s.n}`);
  }
  if (!Number.isInteger(s.successes) || s.successes < 0 || s.successes > s.n) {
    throw new RangeError(
      `twoProportionZTest: ${arm}.successes must be an integer in [0, n = ${s.n}], got ${s.successes}`,
    );
  }
}

/**
 * Tests treatment's proportion against control's. "larger" means treatment > control.
 *
 * Degenerate input: n < 1 or successes outside [0, n] throw a RangeError. When both arms are all
 * failures or all successes the pooled SE is 0 and so is the effect; the result is z = 0, p = 1.
 * A control proportion of 0 leaves the relative lift NaN (see `effect.ts`).
 */
export function twoProportionZTest(
  control: ProportionSummary,
  treatment: ProportionSummary,
  opts?: TestOptions,
): EffectEstimate {
  checkArm("control", control);
  checkArm("treatment", treatment);
  const { alpha, alternative } = resolveTestOptions(opts);
  const pc = control.successes / control.n;
  const pt = treatment.successes / treatment.n;
  const pooled = (control.successes + treatment.successes) / (control.n + treatment.n);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / control.n + 1 / treatment.n));
  // sePooled is 0 only when every unit in both arms has the same outcome, where pt − pc is 0 too.
  const z = sePooled > 0 ? (pt - pc) / sePooled : 0;
  return assembleEstimate(
    "twoProportionZTest",
    {
      control: pc,
      treatment: pt,
      varControl: (pc * (1 - pc)) / control.n,
      varTreatment: (pt * (1 - pt)) / treatment.n,
    },
    { alpha, alternative },
    z,
  );
}

/**
 * Two-sided Wilson score interval for `successes` out of `n`: the p whose score test does not
 * reject, (p̂ + z²/2n ± z·sqrt(p̂q̂/n + z²/4n²)) / (1 + z²/n). At n = 0 this is its limit, [0, 1].
 */
export function wilsonInterval(successes: number, n: number, alpha: number): Interval {
  if (n === 0) return [0, 1];
  const z = normQuantile(1 - alpha / 2);
  const z2 = z * z;
  const p = successes / n;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // Clamp rounding at the ends: at p̂ = 0 the lower end is 0 exactly in exact arithmetic.
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}
