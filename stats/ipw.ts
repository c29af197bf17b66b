/**
 * Arm means from adaptively allocated traffic (bandits), by inverse-propensity weighting.
 *
 * Under Thompson sampling an arm that looks bad early is given fewer units, so its early unlucky
 * rewards are never diluted while its lucky ones are: the plain sample mean of each arm is biased
 * downward (Nie et al. 2018, "Why adaptively collected data have negative bias"). Weighting each
 * unit's reward by 1/π, π being the probability its arm had when it was assigned (logged by the
 * router), undoes that: E[1{A = k}·Y/π | history] = μ_k whatever the allocation did.
 *
 * Two estimators, per arm k over N logged units with w_i = 1{A_i = k}/π_i:
 * - Horvitz–Thompson: μ̂ = Σ w_i Y_i / N. Exactly unbiased under any allocation with π > 0.
 *   SE² = Σ (w_i Y_i − μ̂)² / (N (N − 1)), over all N units.
 * - Hajek (self-normalised, the default): μ̂ = Σ w_i Y_i / Σ w_i. SE by the delta method
 *   (the sandwich of a weighted mean, as statsmodels' WLS with cov_type="HC1" gives it):
 *   SE² = n_k/(n_k − 1) · Σ w_i² (Y_i − μ̂)² / (Σ w_i)², over the n_k units of arm k.
 *
 * Why Hajek by default: adaptive designs make the realised Σ w_i (whose expectation is N) noisy, and
 * Horvitz–Thompson passes that noise straight into the estimate, scaled by the reward's level, not
 * its spread (shift every reward by 100 and its SE grows a hundredfold). Hajek divides it out: it is
 * shift-equivariant, stays inside the rewards' range (a rate stays in [0, 1]) and has the smaller
 * variance, at the price of an O(1/N) bias. Intervals are normal (Wald); with a floor on the
 * allocation the weights are bounded by 1/floor, which is what keeps the normal approximation
 * honest (a vanishing propensity would not).
 */

import { normQuantile } from "./distributions.ts";

/** One logged unit: the arm it got, the probability that arm had when it was assigned, its reward. */
export interface PropensityRecord {
  arm: number;
  propensity: number;
  reward: number;
}

export type IpwEstimator = "hajek" | "horvitz-thompson";

/** The estimate of one arm's mean reward. */
export interface IpwArmMean {
  arm: number;
  mean: number;
  se: number;
  ci: [lower: number, upper: number];
  /** Units logged for this arm. */
  n: number;
}

/**
 * Inverse-propensity-weighted mean reward of every arm 0..arms − 1, with a two-sided 1 − alpha
 * normal interval. Hajek by default; see the file comment for both estimators and why.
 *
 * An arm with no units has mean, se and ci NaN under both estimators (Horvitz–Thompson would say
 * 0 ± 0, which no one should read as an estimate); an arm with a single unit has se NaN under Hajek
 * (no spread to estimate).
 *
 * @throws RangeError when arms is not a positive integer, alpha is not in (0, 1), the log is
 * empty, or a record has an arm outside 0..arms − 1, a propensity outside (0, 1] or a non-finite
 * reward (the message names the record).
 */
export function ipwArmMeans(
  records: readonly PropensityRecord[],
  arms: number,
  alpha: number,
  estimator: IpwEstimator = "hajek",
): IpwArmMean[] {
  if (!(Number.isInteger(arms) && arms >= 1)) {
    throw new RangeError(`arms is ${arms}; it must be a positive integer count of arms`);
  }
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha is ${alpha}; it must be in (0, 1), e.g. 0.05`);
  if (records.length === 0) throw new RangeError("records is empty; IPW needs at least one logged unit");
  records.forEach(({ arm, propensity, reward }, i) => {
    if (!(Number.isInteger(arm) && arm >= 0 && arm < arms)) {
      throw new RangeError(`records[${i}].arm is ${arm}; it must be an integer in 0..${arms - 1}`);
    }
    if (!(propensity > 0 && propensity <= 1)) {
      throw new RangeError(
        `records[${i}].propensity is ${propensity}; it must be the assigned arm's probability, in (0, 1]`,
      );
    }
    if (!Number.isFinite(reward))
      throw new RangeError(`records[${i}].reward is ${reward}; it must be finite`);
  });
  const z = normQuantile(1 - alpha / 2);
  const result: IpwArmMean[] = [];
  for (let arm = 0; arm < arms; arm++) {
    const own = records.filter((r) => r.arm === arm);
    const { mean, se } =
      own.length === 0
        ? { mean: Number.NaN, se: Number.NaN }
        : estimator === "hajek"
          ? hajek(own)
          : horvitzThompson(own, records.length);
    result.push({ arm, mean, se, ci: [mean - z * se, mean + z * se], n: own.length });
  }
  return result;
}

function hajek(own: readonly PropensityRecord[]): { mean: number; se: number } {
  let weights = 0;
  let weighted = 0;
  for (const { propensity, reward } of own) {
    weights += 1 / propensity;
    weighted += reward / propensity;
  }
  const mean = weighted / weights;
  const n = own.length;
  let sandwich = 0;
  for (const { propensity, reward } of own) sandwich += ((reward - mean) / propensity) ** 2;
  const se = n < 2 ? Number.NaN : Math.sqrt((n / (n - 1)) * sandwich) / weights;
  return { mean, se };
}

function horvitzThompson(own: readonly PropensityRecord[], total: number): { mean: number; se: number } {
  let weighted = 0;
  for (const { propensity, reward } of own) weighted += reward / propensity;
  const mean = weighted / total;
  // Units of other arms contribute w·Y = 0, so each adds mean² to the sum of squares.
  let squares = (total - own.length) * mean * mean;
  for (const { propensity, reward } of own) squares += (reward / propensity - mean) ** 2;
  const se = total < 2 ? Number.NaN : Math.sqrt(squares / (total * (total - 1)));
  return { mean, se };
}
