/**
 * The serving side of one spec deployment as Kubernetes data: the vLLM Deployment, its headless
 * Service (the router's replica discovery), a ClusterIP Service for everyone else, and the
 * PodMonitor that lets Prometheus (and so KEDA) see vLLM's metrics.
 */
import type { Deployment } from "../../spec/schema.ts";
import { servingPriorityClassName } from "./placeholder-pods.ts";
import { autoscales } from "./scaling.ts";
import {
  buildVllmContainer,
  gpuScheduling,
  inferenceName,
  type Json,
  servingLabels,
  servingSelector,
  VLLM_PORT,
  type VllmPodOptions,
  vllmVolumes,
} from "./vllm-container.ts";

/** Name of the ClusterIP Service: `<experiment>-<deployment>-api`. */
export function clusterIpServiceName(experiment: string, deploymentName: string): string {
  return `${inferenceName(experiment, deploymentName)}-api`;
}

/** The vLLM Deployment. */
export function servingDeployment(
  experiment: string,
  deploymentName: string,
  deployment: Deployment,
  namespace: string,
  options: VllmPodOptions = {},
): Json {
  const labels = servingLabels(experiment, deploymentName);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { labels, name: inferenceName(experiment, deploymentName), namespace },
    spec: {
      // With an autoscaler the count is its business; a fixed count here would undo each scale on
      // the next `pulumi up`.
      ...(autoscales(deployment) ? {} : { replicas: deployment.replicas.min }),
      selector: { matchLabels: servingSelector(experiment, deploymentName) },
      // Never below the serving count during a rollout: the surge pod preempts a warm placeholder.
      strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 }, type: "RollingUpdate" },
      template: {
        metadata: { labels },
        spec: {
          containers: [buildVllmContainer(deployment, options)],
          priorityClassName: servingPriorityClassName(experiment, deploymentName),
          // vLLM finishes in-flight streams on SIGTERM.
          terminationGracePeriodSeconds: 60,
          volumes: vllmVolumes(options),
          ...gpuScheduling(deployment),
        },
      },
    },
  };
}

function service(
  experiment: string,
  deploymentName: string,
  namespace: string,
  name: string,
  extra: Json,
): Json {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { labels: servingLabels(experiment, deploymentName), name, namespace },
    spec: {
      ...extra,
      ports: [{ name: "http", port: VLLM_PORT, protocol: "TCP", targetPort: "http" }],
      selector: servingSelector(experiment, deploymentName),
    },
  };
}

/**
 * The headless Service `<experiment>-<deployment>`: its DNS name lists the ready pods' IPs, which
 * the router resolves (LLM_AB_REPLICA_DNS) to balance and track warm-up per replica itself.
 */
export function headlessService(experiment: string, deploymentName: string, namespace: string): Json {
  return service(experiment, deploymentName, namespace, inferenceName(experiment, deploymentName), {
    clusterIP: "None",
    publishNotReadyAddresses: false,
  });
}

/** The ClusterIP Service, for clients that do not balance themselves (smoke tests, evals). */
export function clusterIpService(experiment: string, deploymentName: string, namespace: string): Json {
  return service(experiment, deploymentName, namespace, clusterIpServiceName(experiment, deploymentName), {
    type: "ClusterIP",
  });
}

/**
 * The PodMonitor: scrapes `/metrics` on the serving pods and copies the experiment and deployment
 * labels onto the series (`llm_ab_experiment`, `llm_ab_deployment`), which the KEDA query selects.
 */
export function podMonitor(
  experiment: string,
  deploymentName: string,
  namespace: string,
  extraLabels: Readonly<Record<string, string>> = {},
): Json {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PodMonitor",
    metadata: {
      labels: { ...servingLabels(experiment, deploymentName), ...extraLabels },
      name: inferenceName(experiment, deploymentName),
      namespace,
    },
    spec: {
      podMetricsEndpoints: [{ interval: "15s", path: "/metrics", port: "http" }],
      podTargetLabels: ["llm-ab/deployment", "llm-ab/experiment"],
      selector: { matchLabels: servingSelector(experiment, deploymentName) },
    },
  };
}
