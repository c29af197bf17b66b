/**
 * Cross-field checks of `rollout.bandit` (see rollout-schema.ts for what each setting is for, and
 * for the rules that need only the rollout): the reward is a declared outcome the router can learn
 * from, and the floor leaves room for every arm.
 */
import { didYouMean } from "./closest-name.ts";
import { type Draft, type DraftProblem, draftAt, itemsAt, numberAt, stringAt } from "./draft.ts";
import { isRouterMeasuredName } from "./router-measured.ts";

const rewardKinds = ["binary", "continuous"];

/** The problems of `rollout` that involve the bandit settings; `mode` is the parsed rollout mode. */
export function banditProblems(spec: Draft, mode: string | undefined): DraftProblem[] {
  // Presence rules (bandit only in mode bandit, no treatmentPercent) are the rollout schema's own.
  const bandit = draftAt(draftAt(spec, "rollout"), "bandit");
  if (mode !== "bandit" || bandit === undefined) return [];
  const problems = rewardProblems(spec, stringAt(bandit, "reward"));
  const floor = numberAt(bandit, "floor") ?? 0.05;
  const arms = Object.keys(draftAt(spec, "variants") ?? {}).length;
  if (arms >= 2 && floor * arms >= 1) {
    problems.push({
      path: ["rollout", "bandit", "floor"],
      message: `must be below 1/arms = ${(1 / arms).toFixed(4)} with ${arms} arms, got ${floor}: a floor that high leaves the bandit nothing to allocate`,
    });
  }
  return problems;
}

function rewardProblems(spec: Draft, reward: string | undefined): DraftProblem[] {
  if (reward === undefined) return [];
  const path = ["rollout", "bandit", "reward"];
  const metrics = draftAt(spec, "metrics");
  const declared = [...itemsAt(metrics, "primary"), ...itemsAt(metrics, "secondary")].map(([, m]) => m);
  const metric = declared.find((m) => stringAt(m, "name") === reward);
  if (isRouterMeasuredName(reward)) {
    return [
      {
        path,
        message: `"${reward}" is measured by the router from its own turns, never posted to POST /v1/outcomes, so the bandit could not learn from it: name an outcome metric`,
      },
    ];
  }
  if (metric === undefined) {
    const names = declared.flatMap((m) => stringAt(m, "name") ?? []);
    const why = didYouMean(reward, names);
    return [
      {
        path,
        message: `must name a primary or secondary metric, got "${reward}"${why}; declared: ${names.join(", ") || "none"}`,
      },
    ];
  }
  const kind = stringAt(metric, "kind");
  if (kind !== undefined && !rewardKinds.includes(kind)) {
    return [
      {
        path,
        message: `must be a binary or continuous metric (Beta–Bernoulli or normal rewards), but "${reward}" is ${kind}`,
      },
    ];
  }
  return [];
}
