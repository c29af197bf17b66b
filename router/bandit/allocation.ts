/**
 * The bandit's shared allocation: a versioned value every router replica reads, computed from the
 * arms' reward statistics by Thompson sampling (stats/thompson.ts).
 *
 * Version 0 is the equal split before any update. Each update is version + 1, and its Monte Carlo
 * draws are seeded by (experiment namespace, version): two replicas that compute the same version
 * from the same statistics get the same probabilities, and an allocation can be recomputed later
 * from its logged inputs.
 *
 * Direction: the bandit maximises. For a metric whose good direction is `decrease` a binary reward
 * y is learned as 1 − y and a continuous one as −y; posterior means are reported back in the
 * metric's own units.
 */
import type { BanditConfig } from "../../spec/rollout-schema.ts";
import { seededRandom } from "../../stats/interleaving.ts";
import { type ArmStats, allocationProbabilities, type Reward, regretEstimate } from "../../stats/thompson.ts";
import { murmur3 } from "../hash.ts";

/** The allocation in force, as stored and as every exposure of its units records it. */
export interface BanditAllocation {
  /** 0 before the first update; +1 per update. */
  readonly version: number;
  /** Assignment probability per variant (sums to 1). */
  readonly probabilities: Readonly<Record<string, number>>;
  /** Rewards counted (all arms) when this version was computed; the next update waits for more. */
  readonly rewards: number;
  /** When it was computed, epoch ms (0 for version 0). */
  readonly updatedAt: number;
  /** Posterior mean reward per variant, in the metric's units (NaN-free: absent until known). */
  readonly posteriorMeans: Readonly<Record<string, number>>;
  /** Posterior expected cumulative regret of the rewarded units so far (metric units); null before burn-in. */
  readonly regret: number | null;
}

/** What the bandit learns from, and how (derived from the spec once). */
export interface BanditPolicy extends BanditConfig {
  /** Variants in a fixed order (control first): the arms of the allocation. */
  readonly arms: readonly string[];
  readonly kind: Reward;
  readonly direction: "increase" | "decrease";
}

/** The equal split every experiment starts from. */
export function initialAllocation(arms: readonly string[]): BanditAllocation {
  return {
    version: 0,
    probabilities: Object.fromEntries(arms.map((arm) => [arm, 1 / arms.length])),
    rewards: 0,
    updatedAt: 0,
    posteriorMeans: {},
    regret: null,
  };
}

/** The reward as the bandit learns it (higher is better). */
export function learnedReward(policy: Pick<BanditPolicy, "kind" | "direction">, value: number): number {
  if (policy.direction === "increase") return value;
  return policy.kind === "binary" ? 1 - value : -value;
}

/** Arm statistics of learned rewards → posterior means in the metric's own units. */
function posteriorMeans(policy: BanditPolicy, stats: readonly ArmStats[]): Record<string, number> {
  const means: Record<string, number> = {};
  policy.arms.forEach((arm, i) => {
    const s = stats[i]!;
    if (s.n === 0) return;
    // Beta(1 + s, 1 + f) under the uniform prior; the t posterior of the normal model is centred on the sample mean.
    const learned = policy.kind === "binary" ? (1 + s.sum) / (2 + s.n) : s.sum / s.n;
    means[arm] =
      policy.direction === "increase" ? learned : policy.kind === "binary" ? 1 - learned : -learned;
  });
  return means;
}

/** A 32-bit seed in [1, 2³² − 1] for the draws of one version of one experiment. */
function seedOf(namespace: string, version: number): number {
  return (murmur3(`${namespace}:bandit:${version}`) % 0xfffffffe) + 1;
}

/**
 * The allocation after `previous`, from every arm's statistics of learned rewards (in
 * `policy.arms` order) and the total rewards they hold.
 */
export function nextAllocation(
  policy: BanditPolicy,
  namespace: string,
  previous: BanditAllocation,
  stats: readonly ArmStats[],
  rewards: number,
  now: number,
): BanditAllocation {
  const version = previous.version + 1;
  const random = seededRandom(seedOf(namespace, version));
  const probabilities = allocationProbabilities(
    stats,
    policy.kind,
    { floor: policy.floor, burnIn: policy.burnIn, draws: policy.draws },
    random,
  );
  const regretKnown = policy.kind === "binary" ? stats.every((s) => s.n >= 1) : stats.every((s) => s.n >= 2);
  return {
    version,
    probabilities: Object.fromEntries(policy.arms.map((arm, i) => [arm, probabilities[i]!])),
    rewards,
    updatedAt: now,
    posteriorMeans: posteriorMeans(policy, stats),
    regret:
      regretKnown && stats.every((s) => s.n >= policy.burnIn)
        ? regretEstimate(stats, policy.kind, policy.draws, random).cumulative
        : null,
  };
}

/**
 * The unit's uniform draw in [0, 1): a hash of salt and unit, so an assignment can be replayed from
 * the log and is independent of everything the unit does (which is what makes the recorded
 * probability its propensity).
 */
export function unitDraw(salt: string, unitId: string): number {
  return murmur3(`${salt}:bandit:${unitId}`) / 2 ** 32;
}

/** Whether an update is due: enough new rewards, or the allocation is old and any arrived. */
export function updateDue(
  policy: Pick<BanditPolicy, "updateEvery" | "maxUpdateIntervalSeconds">,
  current: BanditAllocation,
  rewards: number,
  now: number,
): boolean {
  const fresh = rewards - current.rewards;
  if (fresh >= policy.updateEvery) return true;
  // Version 0 has no age (it is the equal split, not a computed allocation): only the count applies.
  if (current.version === 0) return false;
  return fresh > 0 && now - current.updatedAt >= policy.maxUpdateIntervalSeconds * 1000;
}
