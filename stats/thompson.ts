/**
 * Thompson-sampling allocation for adaptive experiments (bandits): how much of the next batch of
 * traffic each arm gets, given what every arm has shown so far.
 *
 * Posteriors, one per arm, independent, from the sufficient statistics {n, sum, sumSquares}:
 * - binary rewards (0/1): Beta(1 + successes, 1 + failures), the uniform prior; `sum` is the
 *   success count.
 * - continuous rewards: a normal model with unknown mean AND unknown variance under the reference
 *   prior p(μ, σ²) ∝ 1/σ² (the flat-prior limit of Normal–Inverse-Gamma). Its marginal posterior
 *   for the mean is Student t with n − 1 degrees of freedom, centred on the sample mean with scale
 *   s/√n. Chosen over a known-variance plug-in because the plug-in is overconfident for small arms
 *   (exactly when allocation matters most) and over a proper NIG prior because any NIG prior needs
 *   hyper-parameters on the reward's scale that a spec would have to guess. It needs n ≥ 2 per arm,
 *   so continuous allocation stays uniform until every arm has at least 2 units.
 *
 * Randomness: every function takes a uniform source `random()` in [0, 1) (e.g. a seeded MT19937) and
 * draws Beta and t variates from it (Marsaglia–Tsang gammas, Box–Muller normals), so results are
 * reproducible from the seed and nothing here holds state.
 */

export type Reward = "binary" | "continuous";

/** Sufficient statistics of one arm: units, Σ reward, Σ reward² (for binary, sum = successes). */
export interface ArmStats {
  n: number;
  sum: number;
  sumSquares: number;
}

/** How allocation adapts. */
export interface AllocationPolicy {
  /** Minimum probability per arm, e.g. 0.05; keeps every arm learning and IPW weights ≤ 1/floor. */
  floor: number;
  /** Units every arm needs before allocation adapts; uniform until each arm has it. */
  burnIn: number;
  /** Monte Carlo draws used to estimate P(arm is best), e.g. 10_000 (MC error ≤ 0.5/√draws). */
  draws: number;
}

/**
 * Thompson's allocation: the posterior probability that each arm has the highest mean, estimated
 * from `draws` joint posterior draws (ties share the credit), then floored (see {@link applyFloor}).
 * Uniform while any arm has fewer than `policy.burnIn` units (or, for continuous rewards, fewer
 * than 2, where the posterior is improper).
 *
 * @throws RangeError on fewer than 2 arms, invalid arm statistics or an invalid policy
 * (floor outside [0, 1/arms], burnIn not a non-negative integer, draws not a positive integer).
 */
export function allocationProbabilities(
  arms: readonly ArmStats[],
  reward: Reward,
  policy: AllocationPolicy,
  random: () => number,
): number[] {
  validateArms(arms, reward);
  const k = arms.length;
  const { floor, burnIn, draws } = policy;
  checkFloor(floor, k, "policy.floor");
  if (!(Number.isInteger(burnIn) && burnIn >= 0)) {
    throw new RangeError(
      `policy.burnIn is ${burnIn}; it must be a non-negative integer count of units per arm`,
    );
  }
  checkDraws(draws, "policy.draws");
  const minimum = reward === "continuous" ? Math.max(burnIn, 2) : burnIn;
  if (arms.some((a) => a.n < minimum)) return new Array<number>(k).fill(1 / k);

  const sample = posteriorSampler(arms, reward, random);
  const wins = new Array<number>(k).fill(0);
  const theta = new Float64Array(k);
  for (let d = 0; d < draws; d++) {
    sample(theta);
    let best = -Infinity;
    let ties = 0;
    for (let i = 0; i < k; i++) {
      const t = theta[i]!;
      if (t > best) {
        best = t;
        ties = 1;
      } else if (t === best) ties++;
    }
    for (let i = 0; i < k; i++) if (theta[i] === best) wins[i]! += 1 / ties;
  }
  return applyFloor(
    wins.map((w) => w / draws),
    floor,
  );
}

/**
 * Raises every probability below `floor` to `floor` and scales the others down to pay for it,
 * repeating until none of the scaled ones has dropped below `floor` (water-filling).
 *
 * Why every arm ends ≥ floor and the sum is 1: each pass fixes a set F of arms at `floor` and
 * scales the rest R by c = (1 − |F|·floor) / Σ_R p. If some scaled arm falls below `floor` it
 * joins F and the pass repeats; F only grows, so this stops within `arms` passes, and it stops
 * exactly when every arm of R is ≥ floor. Then Σ = |F|·floor + c·Σ_R p = 1. If every arm ends in F
 * the result is uniform, which is ≥ floor because floor ≤ 1/arms. Arms in R keep their ratios, so
 * the order of the arms is unchanged. Simply taking max(p, floor) and dividing by the sum would not
 * do: the division pulls the floored arms back under the floor.
 *
 * @throws RangeError when floor is outside [0, 1/arms] or a probability is negative or not finite.
 */
export function applyFloor(probabilities: readonly number[], floor: number): number[] {
  const k = probabilities.length;
  checkFloor(floor, k, "floor");
  probabilities.forEach((p, i) => {
    if (!(Number.isFinite(p) && p >= 0)) {
      throw new RangeError(`probabilities[${i}] is ${p}; probabilities must be finite and ≥ 0`);
    }
  });
  const fixed = probabilities.map((p) => p < floor);
  for (let pass = 0; pass <= k; pass++) {
    const free = probabilities.reduce((s, p, i) => (fixed[i] ? s : s + p), 0);
    const left = 1 - floor * fixed.filter(Boolean).length;
    if (free <= 0) return new Array<number>(k).fill(1 / k);
    const scaled = probabilities.map((p, i) => (fixed[i] ? floor : (p * left) / free));
    const under = scaled.map((p, i) => !fixed[i] && p < floor);
    if (!under.some(Boolean)) return scaled;
    under.forEach((u, i) => {
      if (u) fixed[i] = true;
    });
  }
  return new Array<number>(k).fill(1 / k);
}

/**
 * The arm for one unit: the first index whose cumulative probability exceeds `u`, a uniform in
 * [0, 1). Rounding that leaves the total a hair under 1 falls to the last arm with positive
 * probability, never to an arm with probability 0.
 *
 * @throws RangeError when u is outside [0, 1) or a probability is negative or not finite.
 */
export function pickArm(probabilities: readonly number[], u: number): number {
  if (!(u >= 0 && u < 1)) throw new RangeError(`u is ${u}; it must be a uniform draw in [0, 1)`);
  let cumulative = 0;
  let last = -1;
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    if (!(Number.isFinite(p) && p >= 0)) {
      throw new RangeError(`probabilities[${i}] is ${p}; allocation probabilities must be finite and ≥ 0`);
    }
    if (p === 0) continue;
    last = i;
    cumulative += p;
    if (u < cumulative) return i;
  }
  if (last < 0)
    throw new RangeError("probabilities are all 0; at least one arm must have positive probability");
  return last;
}

/** Posterior expected regret of the units already assigned, per arm and in total. */
export interface RegretEstimate {
  /** E[max_j μ_j]: the mean reward of the best arm, averaged over the posterior. */
  expectedBest: number;
  /** Per arm, E[max_j μ_j − μ_k] ≥ 0: what each unit given arm k cost, in expectation. */
  gapPerUnit: number[];
  /** Σ_k n_k · gapPerUnit_k: the cumulative regret of every unit assigned so far. */
  cumulative: number;
}

/**
 * Bayesian cumulative regret, Σ over units of (E[max arm mean] − E[mean of the arm given]), under
 * the current posterior (same models as {@link allocationProbabilities}; arms[k].n units were given
 * arm k). Each arm's gap is averaged over the same `draws` joint draws as the best mean, so the gap
 * is never negative and its MC error is that of max − μ_k rather than of two separate averages.
 *
 * @throws RangeError on fewer than 2 arms, invalid statistics, draws that are not a positive
 * integer, or (continuous rewards) an arm with fewer than 2 units.
 */
export function regretEstimate(
  arms: readonly ArmStats[],
  reward: Reward,
  draws: number,
  random: () => number,
): RegretEstimate {
  validateArms(arms, reward);
  checkDraws(draws, "draws");
  if (reward === "continuous") {
    const i = arms.findIndex((a) => a.n < 2);
    if (i >= 0)
      throw new RangeError(`arms[${i}].n is ${arms[i]!.n}; continuous regret needs ≥ 2 units per arm`);
  }
  const k = arms.length;
  const sample = posteriorSampler(arms, reward, random);
  const theta = new Float64Array(k);
  const gap = new Array<number>(k).fill(0);
  let best = 0;
  for (let d = 0; d < draws; d++) {
    sample(theta);
    let max = -Infinity;
    for (let i = 0; i < k; i++) max = Math.max(max, theta[i]!);
    best += max;
    for (let i = 0; i < k; i++) gap[i]! += max - theta[i]!;
  }
  const gapPerUnit = gap.map((g) => g / draws);
  const cumulative = arms.reduce((s, a, i) => s + a.n * gapPerUnit[i]!, 0);
  return { expectedBest: best / draws, gapPerUnit, cumulative };
}

/** Fills `out` with one joint draw of every arm's mean from its posterior. */
function posteriorSampler(
  arms: readonly ArmStats[],
  reward: Reward,
  random: () => number,
): (out: Float64Array) => void {
  const gamma = gammaSampler(random);
  const k = arms.length;
  if (reward === "binary") {
    const a = arms.map((arm) => 1 + arm.sum);
    const b = arms.map((arm) => 1 + arm.n - arm.sum);
    return (out) => {
      for (let i = 0; i < k; i++) {
        const x = gamma(a[i]!);
        out[i] = x / (x + gamma(b[i]!));
      }
    };
  }
  const mean = arms.map(({ n, sum }) => sum / n);
  const scale = arms.map(({ n, sum, sumSquares }, i) => {
    // Σx² − n·x̄² cancels badly when |mean| ≫ sd; clamp the rounding residue at 0.
    const variance = Math.max(0, (sumSquares - sum * mean[i]!) / (n - 1));
    return Math.sqrt(variance / n);
  });
  const df = arms.map(({ n }) => n - 1);
  return (out) => {
    for (let i = 0; i < k; i++) {
      // t_df = Z / √(χ²_df / df), with χ²_df = 2·Gamma(df / 2).
      const nu = df[i]!;
      out[i] = mean[i]! + (scale[i]! * gamma.normal()) / Math.sqrt((2 * gamma(nu / 2)) / nu);
    }
  };
}

/**
 * Gamma(shape, 1) variates by Marsaglia & Tsang (2000), "A simple method for generating gamma
 * variables", with standard normals by Box–Muller (both values of each pair used); shape < 1 uses
 * Gamma(shape + 1)·U^(1/shape). About 1.02 normals per variate at any shape, so large posteriors
 * cost no more than small ones (inverse-CDF Beta draws would cost an iterative quantile each).
 */
function gammaSampler(random: () => number): ((shape: number) => number) & { normal: () => number } {
  let spare = 0;
  let hasSpare = false;
  const normal = (): number => {
    if (hasSpare) {
      hasSpare = false;
      return spare;
    }
    // 1 − u is in (0, 1], so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    spare = r * Math.sin(angle);
    hasSpare = true;
    return r * Math.cos(angle);
  };
  const gamma = (shape: number): number => {
    if (shape < 1) return gamma(shape + 1) * (1 - random()) ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = normal();
      const w = 1 + c * x;
      if (w <= 0) continue;
      const v = w * w * w;
      const u = 1 - random();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2 || Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
    }
  };
  return Object.assign(gamma, { normal });
}

function validateArms(arms: readonly ArmStats[], reward: Reward): void {
  if (arms.length < 2) throw new RangeError(`got ${arms.length} arm(s); allocation needs at least 2`);
  arms.forEach(({ n, sum, sumSquares }, i) => {
    if (!(Number.isInteger(n) && n >= 0)) {
      throw new RangeError(`arms[${i}].n is ${n}; it must be a non-negative integer count of units`);
    }
    if (reward === "binary") {
      if (!(Number.isInteger(sum) && sum >= 0 && sum <= n)) {
        throw new RangeError(
          `arms[${i}].sum is ${sum}; for binary rewards it must be a success count in 0..n (${n})`,
        );
      }
    } else if (!(Number.isFinite(sum) && Number.isFinite(sumSquares) && sumSquares >= 0)) {
      throw new RangeError(
        `arms[${i}] has sum ${sum}, sumSquares ${sumSquares}; both must be finite, sumSquares ≥ 0`,
      );
    }
  });
}

function checkFloor(floor: number, arms: number, name: string): void {
  // A hair of slack so that floor = 1/3 with 3 arms is accepted despite rounding.
  if (!(floor >= 0 && floor * arms <= 1 + 1e-12)) {
    throw new RangeError(
      `${name} is ${floor}; it must be between 0 and 1/arms (${1 / arms} for ${arms} arms)`,
    );
  }
}

function checkDraws(draws: number, name: string): void {
  if (!(Number.isInteger(draws) && draws >= 1)) {
    throw new RangeError(`${name} is ${draws}; it must be a positive integer (e.g. 10000)`);
  }
}
