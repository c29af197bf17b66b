/**
 * `Experiment`: everything one experiment spec deploys — the GPU node pool (optional), a vLLM
 * `InferenceDeployment` per spec deployment, the `ExperimentRouter` and the
 * `ExperimentMonitoring` — with the checks that must fail the preview before anything is applied.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { planExperiment } from "../analysis/plan.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import { checkGpuFit } from "./builders/gpu-instances.ts";
import { banditStoreProblem, DEFAULT_ROUTER_REPLICAS } from "./builders/router-replicas.ts";
import type { ScalingOptions } from "./builders/scaling.ts";
import type { VllmPodOptions } from "./builders/vllm-container.ts";
import { ExperimentMonitoring, type ExperimentMonitoringArgs } from "./experiment-monitoring.ts";
import { ExperimentRouter, type ExperimentRouterArgs, type RouterPlacement } from "./experiment-router.ts";
import { GpuNodePool, type GpuNodePoolArgs } from "./gpu-node-pool.ts";
import { InferenceDeployment } from "./inference-deployment.ts";

/** The sample-size plan per primary metric, as the stack outputs it. */
export interface PlanSummary {
  readonly metric: string;
  /** Units the larger arm needs at the last look. */
  readonly perArm: number;
  /** Units in the experiment at the final look. */
  readonly total: number;
  /** Days to reach `total` at the spec's daily units; null without `analysis.dailyUnits`. */
  readonly days: number | null;
}

export interface ExperimentArgs {
  /** The parsed experiment spec (plain: every check runs at preview). */
  readonly spec: ExperimentSpec;
  /** Namespace of every namespaced object. Default "llm-ab". */
  readonly namespace?: string;
  /** Create the namespace too. Default false (it exists already). */
  readonly createNamespace?: boolean;
  /**
   * An EKS GPU node group for the deployments. Default none: the cluster already has GPU nodes,
   * and `nodeInstanceTypes` (if given) is what the deployments are checked against.
   */
  readonly gpuNodePool?: Omit<GpuNodePoolArgs, "deployments">;
  /** Instance types of existing GPU nodes, for the fit check. Default: the node pool's, else unchecked. */
  readonly nodeInstanceTypes?: readonly string[];
  /** vLLM pod sizing. Defaults: see `VllmPodOptions`. */
  readonly pod?: VllmPodOptions;
  /** Autoscaler choice. Defaults: KEDA, see `ScalingOptions`. */
  readonly scaling?: ScalingOptions;
  /** Extra labels on PodMonitors and monitoring objects (e.g. `release`). Default none. */
  readonly monitoringLabels?: Readonly<Record<string, string>>;
  /**
   * Router settings. Default placement: standalone, 2 replicas with the redis store, else 1. A
   * bandit on the memory store (`spec.rollout.mode: bandit`, `spec.router.store: memory`) is
   * refused with more than one standalone replica: see `banditStoreProblem`.
   */
  readonly router?: Omit<ExperimentRouterArgs, "spec" | "namespace">;
  /** Monitoring settings. Defaults: see `ExperimentMonitoringArgs`. */
  readonly monitoring?: Omit<ExperimentMonitoringArgs, "spec" | "namespace" | "labels">;
}

/** One experiment's inference, router and monitoring, from one spec. */
export class Experiment extends pulumi.ComponentResource {
  /** URL the application sends its OpenAI requests to. */
  public readonly routerAddress: pulumi.Output<string>;
  /** uid of the experiment's Grafana dashboard. */
  public readonly dashboardUid: pulumi.Output<string>;
  /** Names of the alert rules. */
  public readonly ruleNames: pulumi.Output<string[]>;
  /** The sample-size plan of each primary metric (empty when the spec cannot be sized). */
  public readonly plan: pulumi.Output<PlanSummary[]>;
  /**
   * With the router as a sidecar: the `transformations` option that injects it into the
   * application's Deployment (see `ExperimentRouter`); undefined otherwise.
   */
  public readonly sidecarTransformation: pulumi.ResourceTransformation | undefined;

  constructor(name: string, args: ExperimentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-ab:components:Experiment", name, {}, opts);
    const { spec } = args;
    checkGuardrails(spec);
    const placement = routerPlacement(spec, args.router?.placement);
    const namespace = args.namespace ?? "llm-ab";
    const child = { parent: this };

    const instanceTypes = args.nodeInstanceTypes ?? args.gpuNodePool?.instanceTypes;
    if (instanceTypes !== undefined) {
      for (const [key, deployment] of Object.entries(spec.deployments)) {
        checkGpuFit(key, deployment, instanceTypes);
      }
    }
    const dependsOn: pulumi.Resource[] = [];
    if (args.createNamespace ?? false) {
      dependsOn.push(
        new k8s.core.v1.Namespace(
          `${name}-namespace`,
          { metadata: { name: namespace, labels: { "app.kubernetes.io/managed-by": "llm-ab" } } },
          child,
        ),
      );
    }
    if (args.gpuNodePool !== undefined) {
      dependsOn.push(
        new GpuNodePool(`${name}-gpu`, { ...args.gpuNodePool, deployments: spec.deployments }, child),
      );
    }
    const after = { ...child, dependsOn };

    // Sorted, so the resources register in the same order however the spec's keys were written.
    for (const key of Object.keys(spec.deployments).sort()) {
      const deployment = spec.deployments[key];
      if (deployment === undefined) continue;
      new InferenceDeployment(
        `${name}-${key}`,
        {
          experiment: spec.name,
          deploymentName: key,
          deployment,
          namespace,
          ...(instanceTypes === undefined ? {} : { nodeInstanceTypes: instanceTypes }),
          ...(args.pod === undefined ? {} : { pod: args.pod }),
          ...(args.scaling === undefined ? {} : { scaling: args.scaling }),
          ...(args.monitoringLabels === undefined ? {} : { podMonitorLabels: args.monitoringLabels }),
        },
        after,
      );
    }

    const router = new ExperimentRouter(
      `${name}-router`,
      {
        ...(args.monitoringLabels === undefined ? {} : { podMonitorLabels: args.monitoringLabels }),
        ...args.router,
        placement,
        spec,
        namespace,
      },
      after,
    );
    const monitoring = new ExperimentMonitoring(
      `${name}-monitoring`,
      {
        ...args.monitoring,
        spec,
        namespace,
        ...(args.monitoringLabels === undefined ? {} : { labels: args.monitoringLabels }),
      },
      after,
    );

    this.routerAddress = router.address;
    this.sidecarTransformation = router.sidecarTransformation;
    this.dashboardUid = pulumi.output(monitoring.dashboardUid);
    this.ruleNames = pulumi.output([...monitoring.alertNames]);
    this.plan = pulumi.output(planSummary(spec));
    this.registerOutputs({
      routerAddress: this.routerAddress,
      dashboardUid: this.dashboardUid,
      ruleNames: this.ruleNames,
      plan: this.plan,
    });
  }
}

/**
 * The router's placement (`router.placement`, else standalone with 2 replicas on the redis store and
 * 1 on the memory store), refused when it would split a bandit on the memory store across
 * standalone replicas. A sidecar's count is the application's, which only the injection sees (the
 * sidecar transformation checks it there).
 */
export function routerPlacement(
  spec: Pick<ExperimentSpec, "rollout" | "router">,
  placement: RouterPlacement | undefined,
): RouterPlacement {
  const chosen = placement ?? { kind: "standalone", replicas: spec.router.store === "redis" ? 2 : 1 };
  if (chosen.kind === "standalone") {
    const problem = banditStoreProblem(spec, {
      count: chosen.replicas ?? DEFAULT_ROUTER_REPLICAS,
      field: "router.placement.replicas",
      unit: "router replica",
      ...(chosen.replicas === undefined ? { detail: "(the default)" } : {}),
    });
    if (problem !== undefined) throw new pulumi.InputPropertyError(problem);
  }
  return chosen;
}

/**
 * Treatments that serve live traffic (any mode but shadow, with a treatment percent above 0; a
 * bandit always does) must have guardrails, or nothing would pause or roll them back when they
 * hurt users.
 */
export function checkGuardrails(spec: Pick<ExperimentSpec, "rollout" | "metrics">): void {
  const { mode, treatmentPercent } = spec.rollout;
  const live = mode !== "shadow" && treatmentPercent > 0;
  if (live && spec.metrics.guardrails.length === 0) {
    // A bandit's split is its own (never below the floor per arm), so it has no percent to quote.
    const exposure =
      mode === "bandit"
        ? "rollout.mode bandit sends units to every treatment, each at least its floor"
        : `rollout.mode ${mode} sends ${treatmentPercent}% of units to the treatments`;
    throw new pulumi.InputPropertyError({
      propertyPath: "metrics.guardrails",
      reason: `must list at least one guardrail: ${exposure}, and nothing would pause or roll them back`,
    });
  }
}

/**
 * The plan's per-metric sizes (A/B/n: each treatment against control at alpha/k; a bandit: its
 * burn-in's equal split); none when the spec cannot be sized (a continuous metric without `sd`,
 * a treatment percent of 100).
 */
function planSummary(spec: ExperimentSpec): PlanSummary[] {
  let plan: ReturnType<typeof planExperiment>;
  try {
    plan = planExperiment(spec);
  } catch (error) {
    if (error instanceof RangeError) return [];
    throw error;
  }
  return plan.metrics.map((m) => ({ metric: m.name, perArm: m.perArm, total: m.total, days: m.days }));
}
