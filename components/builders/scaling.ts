/**
 * How a vLLM deployment scales and how far it may be disrupted: a KEDA ScaledObject on the queue of
 * waiting requests (an HPA on the same metric when KEDA is not installed) and a
 * PodDisruptionBudget. Pure Kubernetes data.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Deployment } from "../../spec/schema.ts";
import { inferenceName, type Json, servingLabels, servingSelector } from "./vllm-container.ts";

/** The vLLM gauge of requests queued for a free batch slot: the earliest sign a replica is saturated. */
export const QUEUE_METRIC = "vllm:num_requests_waiting";
/**
 * The same gauge as the custom-metrics API serves it: prometheus-adapter must expose it under this
 * name (a rule renaming `vllm:num_requests_waiting`), since HPA metric names cannot hold `:`.
 */
export const QUEUE_METRIC_ADAPTER_NAME = "vllm_num_requests_waiting";

/** Knobs for autoscaling; every one has a default. */
export interface ScalingOptions {
  /** KEDA installed: a ScaledObject. Off: an autoscaling/v2 HPA. Default true. */
  readonly keda?: boolean;
  /** Prometheus KEDA queries. Default "http://prometheus-operated.monitoring.svc:9090". */
  readonly prometheusUrl?: string;
  /** Waiting requests per replica that trigger a scale-up. Default 4. */
  readonly queuePerReplica?: number;
  /** Seconds of calm before KEDA scales down; GPU replicas are slow to come back. Default 600. */
  readonly cooldownSeconds?: number;
}

/** Whether the deployment autoscales at all: only when `replicas.max` exceeds `replicas.min`. */
export function autoscales(deployment: Pick<Deployment, "replicas">): boolean {
  return deployment.replicas.max > deployment.replicas.min;
}

/**
 * The PromQL KEDA evaluates: the queue summed over the deployment's pods, which PodMonitor labels
 * with `llm_ab_experiment` / `llm_ab_deployment`. KEDA divides it by `queuePerReplica`.
 */
export function queueQuery(experiment: string, deploymentName: string, namespace: string): string {
  return `sum(${QUEUE_METRIC}{namespace="${namespace}",llm_ab_experiment="${experiment}",llm_ab_deployment="${deploymentName}"})`;
}

function metadata(experiment: string, deploymentName: string, namespace: string): Json {
  return {
    labels: servingLabels(experiment, deploymentName),
    name: inferenceName(experiment, deploymentName),
    namespace,
  };
}

/** A KEDA ScaledObject on the queue, min/max replicas from the spec. */
export function scaledObject(
  experiment: string,
  deploymentName: string,
  deployment: Pick<Deployment, "replicas">,
  namespace: string,
  options: ScalingOptions = {},
): Json {
  return {
    apiVersion: "keda.sh/v1alpha1",
    kind: "ScaledObject",
    metadata: metadata(experiment, deploymentName, namespace),
    spec: {
      cooldownPeriod: options.cooldownSeconds ?? 600,
      maxReplicaCount: deployment.replicas.max,
      minReplicaCount: deployment.replicas.min,
      pollingInterval: 15,
      scaleTargetRef: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: inferenceName(experiment, deploymentName),
      },
      triggers: [
        {
          metadata: {
            query: queueQuery(experiment, deploymentName, namespace),
            serverAddress: options.prometheusUrl ?? "http://prometheus-operated.monitoring.svc:9090",
            threshold: String(options.queuePerReplica ?? 4),
          },
          metricType: "AverageValue",
          type: "prometheus",
        },
      ],
    },
  };
}

/**
 * An autoscaling/v2 HPA on the queue per pod, for clusters without KEDA. The HPA cannot scale to
 * zero, so `replicas.min` 0 is an InputPropertyError.
 */
export function horizontalPodAutoscaler(
  experiment: string,
  deploymentName: string,
  deployment: Pick<Deployment, "replicas">,
  namespace: string,
  options: ScalingOptions = {},
): Json {
  if (deployment.replicas.min < 1) {
    throw new pulumi.InputPropertyError({
      propertyPath: `deployments.${deploymentName}.replicas.min`,
      reason:
        "must be at least 1 without KEDA: a HorizontalPodAutoscaler cannot scale to zero; install KEDA or raise min",
    });
  }
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: metadata(experiment, deploymentName, namespace),
    spec: {
      behavior: { scaleDown: { stabilizationWindowSeconds: options.cooldownSeconds ?? 600 } },
      maxReplicas: deployment.replicas.max,
      metrics: [
        {
          pods: {
            metric: { name: QUEUE_METRIC_ADAPTER_NAME },
            target: { averageValue: String(options.queuePerReplica ?? 4), type: "AverageValue" },
          },
          type: "Pods",
        },
      ],
      minReplicas: deployment.replicas.min,
      scaleTargetRef: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: inferenceName(experiment, deploymentName),
      },
    },
  };
}

/**
 * At most one serving pod voluntarily down at a time. `maxUnavailable` rather than `minAvailable`
 * so a one-replica deployment never blocks a node drain forever, and pods that never became ready
 * (stuck loading) may always be evicted.
 */
export function podDisruptionBudget(experiment: string, deploymentName: string, namespace: string): Json {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: metadata(experiment, deploymentName, namespace),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: servingSelector(experiment, deploymentName) },
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    },
  };
}
