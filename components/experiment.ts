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
import type { ScalingOptions } from "./builders/scaling.ts";
import type { VllmPodOptions } from "./builders/vllm-container.ts";
import { ExperimentMonitoring, type ExperimentMonitoringArgs } from "./experiment-monitoring.ts";
import { ExperimentRouter, type ExperimentRouterArgs } from "./experiment-router.ts";
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
  /** Router settings. Default: standalone, 2 replicas with the redis store, else 1. */
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
        placement: { kind: "standalone", replicas: spec.router.store === "redis" ? 2 : 1 },
        ...(args.monitoringLabels === undefined ? {} : { podMonitorLabels: args.monitoringLabels }),
        ...args.router,
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
 * A treatment that serves live traffic (any mode but shadow, with a treatment percent above 0)
 * must have guardrails, or nothing would pause or roll it back when it hurts users.
 */
export function checkGuardrails(spec: Pick<ExperimentSpec, "rollout" | "metrics">): void {
  const live = spec.rollout.mode !== "shadow" && spec.rollout.treatmentPercent > 0;
  if (live && spec.metrics.guardrails.length === 0) {
    throw new pulumi.InputPropertyError({
      propertyPath: "metrics.guardrails",
      reason: `must list at least one guardrail: rollout.mode ${spec.rollout.mode} sends ${spec.rollout.treatmentPercent}% of units to the treatment, and nothing would pause or roll it back`,
    });
  }
}

/** The plan's per-metric sizes; none when the spec cannot be sized (e.g. several treatments). */
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
