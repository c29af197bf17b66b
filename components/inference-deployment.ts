/**
 * One spec deployment served by vLLM on GPU nodes: the Deployment, its Services, disruption budget,
 * metrics scrape, autoscaler and warm GPU headroom (see `components/builders/`).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Deployment } from "../spec/schema.ts";
import { checkGpuFit } from "./builders/gpu-instances.ts";
import {
  clusterIpService,
  headlessService,
  podMonitor,
  servingDeployment,
} from "./builders/inference-workload.ts";
import {
  placeholderDeployment,
  placeholderPriorityClass,
  servingPriorityClass,
} from "./builders/placeholder-pods.ts";
import {
  autoscales,
  horizontalPodAutoscaler,
  podDisruptionBudget,
  type ScalingOptions,
  scaledObject,
} from "./builders/scaling.ts";
import { inferenceName, type Json, VLLM_PORT, type VllmPodOptions } from "./builders/vllm-container.ts";

// A Service name is a DNS label; the ClusterIP one adds "-api" to `<experiment>-<deployment>`.
const MAX_BASE_NAME = 63 - "-api".length;

/**
 * Plain values, not Inputs: the spec decides which objects exist and is checked at preview, so it
 * must be known before any resource is created.
 */
export interface InferenceDeploymentArgs {
  /** The experiment's `name`; prefixes every object (`<experiment>-<deployment>`). */
  readonly experiment: string;
  /** The key of the deployment under the spec's `deployments`. */
  readonly deploymentName: string;
  /** The parsed spec deployment (defaults applied). */
  readonly deployment: Deployment;
  /** Namespace of the namespaced objects. Default "llm-ab". */
  readonly namespace?: string;
  /**
   * Instance types of the GPU node pool, to check a replica fits on one node. Default: unchecked
   * (a cluster whose GPU nodes this stack does not manage).
   */
  readonly nodeInstanceTypes?: readonly string[];
  /** Pod sizing, model cache and load budget. Defaults: see `VllmPodOptions`. */
  readonly pod?: VllmPodOptions;
  /** Autoscaler choice and tuning. Defaults: KEDA, see `ScalingOptions`. */
  readonly scaling?: ScalingOptions;
  /** Extra PodMonitor labels (e.g. the `release` a Prometheus `podMonitorSelector` wants). Default none. */
  readonly podMonitorLabels?: Readonly<Record<string, string>>;
}

/** vLLM serving for one spec deployment, with autoscaling and warm headroom. */
export class InferenceDeployment extends pulumi.ComponentResource {
  /** Name of the headless Service the router resolves. */
  public readonly headlessServiceName: pulumi.Output<string>;
  /** Name of the ClusterIP Service. */
  public readonly serviceName: pulumi.Output<string>;
  /** `host:port` of the headless Service, as `LLM_AB_REPLICA_DNS` fills it for this deployment. */
  public readonly replicaDns: pulumi.Output<string>;

  constructor(name: string, args: InferenceDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-ab:components:InferenceDeployment", name, {}, opts);
    const { experiment, deploymentName, deployment } = args;
    const namespace = args.namespace ?? "llm-ab";
    const base = inferenceName(experiment, deploymentName);
    if (base.length > MAX_BASE_NAME) {
      throw new pulumi.InputPropertyError({
        propertyPath: `deployments.${deploymentName}`,
        reason: `"${base}" (experiment name + deployment name) is ${base.length} characters; Service names allow ${MAX_BASE_NAME} here, so shorten either`,
      });
    }
    if (args.nodeInstanceTypes !== undefined) checkGpuFit(deploymentName, deployment, args.nodeInstanceTypes);
    const keda = args.scaling?.keda ?? true;
    const child = { parent: this };

    const servingClass = new k8s.scheduling.v1.PriorityClass(
      `${name}-serving-priority`,
      cast(servingPriorityClass(experiment, deploymentName)),
      child,
    );
    const serving = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      cast(servingDeployment(experiment, deploymentName, deployment, namespace, args.pod)),
      { ...child, dependsOn: [servingClass] },
    );
    const headless = new k8s.core.v1.Service(
      `${name}-headless`,
      cast(headlessService(experiment, deploymentName, namespace)),
      child,
    );
    const service = new k8s.core.v1.Service(
      `${name}-service`,
      cast(clusterIpService(experiment, deploymentName, namespace)),
      child,
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      cast(podDisruptionBudget(experiment, deploymentName, namespace)),
      child,
    );
    new k8s.apiextensions.CustomResource(
      `${name}-pod-monitor`,
      cast(podMonitor(experiment, deploymentName, namespace, args.podMonitorLabels)),
      child,
    );
    if (autoscales(deployment)) {
      if (keda) {
        new k8s.apiextensions.CustomResource(
          `${name}-scaled-object`,
          cast(scaledObject(experiment, deploymentName, deployment, namespace, args.scaling)),
          { ...child, dependsOn: [serving] },
        );
      } else {
        new k8s.autoscaling.v2.HorizontalPodAutoscaler(
          `${name}-hpa`,
          cast(horizontalPodAutoscaler(experiment, deploymentName, deployment, namespace, args.scaling)),
          { ...child, dependsOn: [serving] },
        );
      }
    }
    const placeholder = placeholderDeployment(experiment, deploymentName, deployment, namespace, args.pod);
    if (placeholder !== undefined) {
      const placeholderClass = new k8s.scheduling.v1.PriorityClass(
        `${name}-placeholder-priority`,
        cast(placeholderPriorityClass(experiment, deploymentName)),
        child,
      );
      new k8s.apps.v1.Deployment(`${name}-placeholder`, cast(placeholder), {
        ...child,
        dependsOn: [placeholderClass],
      });
    }

    this.headlessServiceName = headless.metadata.name;
    this.serviceName = service.metadata.name;
    this.replicaDns = pulumi.output(`${base}.${namespace}.svc.cluster.local:${VLLM_PORT}`);
    this.registerOutputs({
      headlessServiceName: this.headlessServiceName,
      replicaDns: this.replicaDns,
      serviceName: this.serviceName,
    });
  }
}

// The builders return plain objects shaped like the resource args; the kubernetes-models
// validation in the tests is what checks their shape.
function cast<T>(object: Json): T {
  return object as T;
}
