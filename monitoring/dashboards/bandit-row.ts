/**
 * The "Bandit" row, mode bandit only: how the router splits new units now, what it believes about
 * each arm, how much reward it has given up while learning, and whether the rewards that teach it
 * arrive in time. Read from the router's own bandit metrics (bandit-metrics.ts), not from recorded
 * series, so the row works without the rule file loaded.
 */
import * as common from "@grafana/grafana-foundation-sdk/common";
import { RowBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { banditMetrics } from "./bandit-metrics.ts";
import { HALF, THIRD, timeseries } from "./panels.ts";
import { EXPERIMENT, PICKED_VARIANTS, RATE_INTERVAL, selector, sumRate } from "./promql.ts";

/**
 * The allocation per arm now: the mean over router replicas, which share one allocation through
 * the store; while an update reaches them one by one, the mean still stacks to exactly 1.
 */
export const ALLOCATION_QUERY = `avg by (variant) (${selector(banditMetrics.allocation.name, [EXPERIMENT])})`;

/** The reward metric's panel unit: a binary reward is a rate, a continuous one a plain number. */
function rewardUnit(spec: ExperimentSpec, reward: string): { unit: string; model: string } {
  const metric = [...spec.metrics.primary, ...spec.metrics.secondary].find((each) => each.name === reward);
  return metric?.kind === "binary"
    ? { unit: "percentunit", model: "Beta–Bernoulli" }
    : { unit: "short", model: "normal" };
}

/** The "Bandit" row; undefined unless the spec's rollout mode is bandit. */
export function banditRow(spec: ExperimentSpec) {
  const bandit = spec.rollout.bandit;
  if (spec.rollout.mode !== "bandit" || bandit === undefined) return undefined;
  const { reward, floor, burnIn, updateEvery, maxUpdateInterval, rewardWindow } = bandit;
  const { unit, model } = rewardUnit(spec, reward);
  const allocation = timeseries(
    {
      title: "Allocation per arm",
      description: `The probability with which the router assigns a new unit to each arm now (${banditMetrics.allocation.name}), stacked so the arms fill 0–1; units keep their first arm. Equal until every arm has ${burnIn} rewards (burn-in), then Thompson sampling on ${reward}, recomputed every ${updateEvery} rewards or ${maxUpdateInterval}, never below the floor of ${floor} per arm. The split moves on purpose, so mode bandit has no sample-ratio-mismatch check. All arms, whatever the variant picker says.`,
      unit: "percentunit",
      width: HALF,
    },
    [{ expr: ALLOCATION_QUERY, legend: "{{variant}}" }],
  )
    .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal))
    .fillOpacity(60)
    .min(0)
    .max(1);
  return {
    row: new RowBuilder("Bandit"),
    panels: [
      allocation,
      timeseries(
        {
          title: "Posterior mean reward per arm",
          description: `The bandit's posterior mean of ${reward} per arm (${banditMetrics.posteriorMean.name}, ${model} model), as of its last update. It steers allocation; it is not the experiment's estimate: adaptive allocation biases plain means, and \`analyze\` reports inverse-propensity-weighted ones.`,
          unit,
          width: HALF,
        },
        [
          {
            expr: `max by (variant) (${selector(banditMetrics.posteriorMean.name, [EXPERIMENT, PICKED_VARIANTS])})`,
            legend: "{{variant}}",
          },
        ],
      ),
      timeseries(
        {
          title: "Cumulative regret",
          description: `Estimated ${reward} given up so far by assigning units to arms other than the best, as the posterior sees it (${banditMetrics.regret.name}, in ${reward} units). It flattens once the bandit has settled on an arm; a line that keeps its slope means the arms are still hard to tell apart.`,
          unit: "short",
          width: THIRD,
        },
        [
          {
            expr: `max by (experiment) (${selector(banditMetrics.regret.name, [EXPERIMENT])})`,
            legend: "regret",
          },
        ],
      ),
      timeseries(
        {
          title: "Rewards per second by match",
          description: `${reward} outcomes the router received (${banditMetrics.rewards.name}), summed over replicas, by how they matched: in_window rewards came within ${rewardWindow} of their unit's first assignment and teach the bandit; late ones came after that and are only logged; unassigned ones name a unit the bandit never assigned; duplicate ones repeat a unit already rewarded in its window; paused ones came while the experiment was paused or rolled back, or from a unit assigned before the last resume (control served it, so it would teach the wrong arm); unrecorded ones could not be written to the store. Anything but in_window growing means the bandit learns from less than the application posts.`,
          unit: "reqps",
          width: THIRD,
        },
        [
          {
            expr: sumRate(banditMetrics.rewards.name, [EXPERIMENT], RATE_INTERVAL, ["matched"]),
            legend: "{{matched}}",
          },
        ],
      ),
      timeseries(
        {
          title: "Posterior updates per minute",
          description: `Allocation versions computed and stored (${banditMetrics.updates.name}), summed over router replicas, each of which counts the versions it made: one every ${updateEvery} rewards, or after ${maxUpdateInterval} when new rewards arrived. None while in_window rewards flow means the allocation is stale.`,
          unit: "short",
          width: THIRD,
        },
        [
          {
            expr: `60 * ${sumRate(banditMetrics.updates.name, [EXPERIMENT], RATE_INTERVAL, [])}`,
            legend: "updates / min",
          },
        ],
      ),
    ],
  };
}
