/**
 * The bandit policy a spec asks for (rollout.mode bandit), resolved once per spec: the arms in a
 * fixed order (control first, then the treatments sorted by name, as `armsOf` gives them) and the reward metric's kind and
 * direction. Spec validation (spec/validate-bandit.ts) guarantees the reward is a declared binary
 * or continuous metric.
 */
import type { ExperimentSpec } from "../../spec/schema.ts";
import type { Arms } from "../assignment.ts";
import type { BanditPolicy } from "./allocation.ts";

/** The spec's bandit policy, or undefined when the rollout is not a bandit. */
export function banditPolicyOf(spec: ExperimentSpec, arms: Arms): BanditPolicy | undefined {
  const bandit = spec.rollout.bandit;
  if (spec.rollout.mode !== "bandit" || bandit === undefined) return undefined;
  const metric = [...spec.metrics.primary, ...spec.metrics.secondary].find((m) => m.name === bandit.reward);
  if (metric === undefined || (metric.kind !== "binary" && metric.kind !== "continuous")) {
    throw new Error(
      `rollout.bandit.reward: "${bandit.reward}" is not a declared binary or continuous metric (load the spec through parseSpec so it is validated)`,
    );
  }
  return {
    ...bandit,
    arms: [arms.control, ...arms.treatments],
    kind: metric.kind,
    direction: metric.direction,
  };
}
