/**
 * How many router processes serve an experiment, and whether its store lets them. Each process
 * keeps its own memory store; in mode bandit that store also holds the bandit (its reward counts
 * and the allocation it computes), so two processes on the memory store would be two bandits, each
 * learning from the share of rewards its own units happen to send and allocating differently. The
 * exposures' propensities would then describe neither allocation as the experiment's, and the
 * inverse-propensity analysis would weight units by the wrong numbers.
 */
import type { ExperimentSpec } from "../../spec/schema.ts";

/** Standalone router replicas when the placement names none. */
export const DEFAULT_ROUTER_REPLICAS = 2;

/** The router processes one placement runs, for the message that refuses them. */
export interface RouterProcesses {
  /** How many router processes run the spec (standalone replicas, or the application's pods). */
  readonly count: number;
  /** The field that sets `count`, as the caller's input names it (`router.placement.replicas`). */
  readonly field: string;
  /** What one process is, for the advice to run just one ("router replica", "application pod"). */
  readonly unit: string;
  /** Extra context after the count (e.g. "(spec.replicas of Deployment chat-app, one router sidecar per pod)"). */
  readonly detail?: string;
}

/** The problem with a placement, as `pulumi.InputPropertyError` takes it. */
export interface PlacementProblem {
  readonly propertyPath: string;
  readonly reason: string;
}

/** How the caller's input names the fields the message points to. */
export interface StorePaths {
  /** Prefix of the experiment spec's fields. Default "spec." (component args). */
  readonly spec?: string;
  /** The setting that deploys Redis in-cluster. Default "router.redis" (`Experiment` args). */
  readonly redis?: string;
}

/**
 * The problem with running `spec`'s bandit in `processes.count` router processes on the memory
 * store, or undefined when there is none (one process, a shared store, or no bandit).
 */
export function banditStoreProblem(
  spec: Pick<ExperimentSpec, "rollout" | "router">,
  processes: RouterProcesses,
  paths: StorePaths = {},
): PlacementProblem | undefined {
  const specPrefix = paths.spec ?? "spec.";
  if (spec.rollout.mode !== "bandit" || spec.router.store === "redis" || processes.count <= 1) {
    return undefined;
  }
  const counted = `${processes.count}${processes.detail === undefined ? "" : ` ${processes.detail}`}`;
  return {
    propertyPath: processes.field,
    reason:
      `must be 1 while the bandit runs on the memory store, got ${counted}: ` +
      `${specPrefix}rollout.mode is bandit and ${specPrefix}router.store is memory, so every router ` +
      "process would run its own bandit, learn from the share of rewards its units send, and allocate " +
      "differently (no single allocation would steer new units, and the propensities recorded on the " +
      "exposures would not be the split the analysis must weight by). " +
      `Set ${specPrefix}router.store: redis with ${specPrefix}router.redisUrl (or ${paths.redis ?? "router.redis"}: ` +
      `statefulset, which deploys one) so all of them share one bandit, or run one ${processes.unit}`,
  };
}
