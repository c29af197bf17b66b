/**
 * The router's metrics of mode bandit (issue 8), by name: the allocation it applies, what it
 * believes about each arm, what it has lost while learning, and the rewards and updates that feed it.
 */

/** Metric names and the labels each carries (besides the scrape's own, `instance` and `job`). */
export const banditMetrics = {
  /** Gauge: the assignment probability in force per arm (0–1) on a replica; replicas share one. */
  allocation: { name: "llmab_bandit_allocation", labels: ["experiment", "variant"] },
  /** Gauge: the posterior mean reward per arm. */
  posteriorMean: { name: "llmab_bandit_posterior_mean", labels: ["experiment", "variant"] },
  /** Gauge: the cumulative regret estimate, in reward units. */
  regret: { name: "llmab_bandit_regret", labels: ["experiment"] },
  /** Counter: rewards received, by whether they matched an exposure in the reward window. */
  rewards: { name: "llmab_bandit_rewards_total", labels: ["experiment", "variant", "matched"] },
  /** Counter: allocation versions a replica computed and stored. */
  updates: { name: "llmab_bandit_updates_total", labels: ["experiment"] },
} as const;

/** Values of the rewards counter's `matched` label (router/bandit/bandit.ts, `RewardMatch`). */
export const rewardMatches = [
  "in_window",
  "late",
  "unassigned",
  "duplicate",
  "paused",
  "unrecorded",
] as const;
