/**
 * The bandit's Prometheus series (names fixed in monitoring's bandit dashboard row):
 *
 * - `llmab_bandit_allocation{experiment,variant}`: assignment probability in force on this replica;
 * - `llmab_bandit_posterior_mean{experiment,variant}`: posterior mean reward, in the metric's units;
 * - `llmab_bandit_regret{experiment}`: posterior expected cumulative regret of the rewarded units;
 * - `llmab_bandit_allocation_version{experiment}`: version of the allocation in force (replicas
 *   that disagree for long are not reading the shared store);
 * - `llmab_bandit_rewards_total{experiment,variant,matched}`: rewards by how they were matched;
 * - `llmab_bandit_updates_total{experiment}`: allocation versions this replica computed and stored.
 *
 * Created once per registry (a router's own), kept apart from metrics.ts because only bandit
 * experiments have them.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { BanditAllocation } from "./allocation.ts";
import type { BanditReporter, RewardMatch } from "./bandit.ts";

interface BanditSeries {
  allocation: Gauge<"experiment" | "variant">;
  posteriorMean: Gauge<"experiment" | "variant">;
  regret: Gauge<"experiment">;
  version: Gauge<"experiment">;
  rewards: Counter<"experiment" | "variant" | "matched">;
  updates: Counter<"experiment">;
}

const byRegistry = new WeakMap<Registry, BanditSeries>();

function seriesOf(registry: Registry): BanditSeries {
  const known = byRegistry.get(registry);
  if (known !== undefined) return known;
  const registers = [registry];
  const series: BanditSeries = {
    allocation: new Gauge({
      name: "llmab_bandit_allocation",
      help: "Bandit: assignment probability of each arm in force on this router (0-1).",
      labelNames: ["experiment", "variant"],
      registers,
    }),
    posteriorMean: new Gauge({
      name: "llmab_bandit_posterior_mean",
      help: "Bandit: posterior mean of the reward metric per arm, in the metric's units.",
      labelNames: ["experiment", "variant"],
      registers,
    }),
    regret: new Gauge({
      name: "llmab_bandit_regret",
      help: "Bandit: posterior expected cumulative regret of the rewarded units, in reward units.",
      labelNames: ["experiment"],
      registers,
    }),
    version: new Gauge({
      name: "llmab_bandit_allocation_version",
      help: "Bandit: version of the shared allocation in force on this router.",
      labelNames: ["experiment"],
      registers,
    }),
    rewards: new Counter({
      name: "llmab_bandit_rewards_total",
      help: "Bandit: rewards posted, by how they matched an assignment (in_window, late, unassigned, duplicate, unrecorded).",
      labelNames: ["experiment", "variant", "matched"],
      registers,
    }),
    updates: new Counter({
      name: "llmab_bandit_updates_total",
      help: "Bandit: allocation versions this router computed and stored.",
      labelNames: ["experiment"],
      registers,
    }),
  };
  byRegistry.set(registry, series);
  return series;
}

/** A {@link BanditReporter} writing the experiment's bandit series into `registry`. */
export function banditReporter(registry: Registry, experiment: string): BanditReporter {
  const series = seriesOf(registry);
  return {
    allocation(current: BanditAllocation) {
      for (const [variant, p] of Object.entries(current.probabilities)) {
        series.allocation.set({ experiment, variant }, p);
      }
      for (const [variant, mean] of Object.entries(current.posteriorMeans)) {
        series.posteriorMean.set({ experiment, variant }, mean);
      }
      if (current.regret !== null) series.regret.set({ experiment }, current.regret);
      series.version.set({ experiment }, current.version);
    },
    reward(variant: string | undefined, matched: RewardMatch) {
      series.rewards.inc({ experiment, variant: variant ?? "", matched });
    },
    update() {
      series.updates.inc({ experiment });
    },
  };
}
