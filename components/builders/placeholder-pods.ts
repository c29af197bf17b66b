/**
 * Warm GPU headroom as Kubernetes data. One placeholder pod per warm node reserves exactly one
 * replica's GPUs, runs the deployment's own (pinned) image so the node has it pulled, and sits at a
 * priority below the serving pods: a scale-up preempts it and starts at once on a node that is up
 * and has the image, while the evicted placeholder goes Pending and makes the node autoscaler bring
 * the next warm node.
 */
import type { Deployment } from "../../spec/schema.ts";
import {
  gpuScheduling,
  inferenceName,
  type Json,
  replicaResources,
  servingLabels,
  type VllmPodOptions,
} from "./vllm-container.ts";

/** Priority of the serving pods: above every placeholder, so they always preempt one. */
export const SERVING_PRIORITY = 1000;
/** Priority of the placeholders: below the default 0, so any ordinary pod preempts them too. */
export const PLACEHOLDER_PRIORITY = -10;

/** The serving pods' PriorityClass name (cluster-scoped, so it carries the experiment). */
export function servingPriorityClassName(experiment: string, deploymentName: string): string {
  return `${inferenceName(experiment, deploymentName)}-serving`;
}

/** The placeholders' PriorityClass name. */
export function placeholderPriorityClassName(experiment: string, deploymentName: string): string {
  return `${inferenceName(experiment, deploymentName)}-placeholder`;
}

/** Labels of the placeholder pods; no `component: inference`, so no Service or PDB selects them. */
export function placeholderLabels(experiment: string, deploymentName: string): Record<string, string> {
  return {
    "app.kubernetes.io/component": "warm-placeholder",
    "app.kubernetes.io/managed-by": "llm-ab",
    "app.kubernetes.io/part-of": "llm-ab",
    "llm-ab/deployment": deploymentName,
    "llm-ab/experiment": experiment,
  };
}

function priorityClass(
  name: string,
  labels: Record<string, string>,
  value: number,
  description: string,
  preemption: string,
): Json {
  return {
    apiVersion: "scheduling.k8s.io/v1",
    description,
    globalDefault: false,
    kind: "PriorityClass",
    metadata: { labels, name },
    preemptionPolicy: preemption,
    value,
  };
}

/** The serving pods' PriorityClass; they may preempt lower-priority pods (the placeholders). */
export function servingPriorityClass(experiment: string, deploymentName: string): Json {
  return priorityClass(
    servingPriorityClassName(experiment, deploymentName),
    servingLabels(experiment, deploymentName),
    SERVING_PRIORITY,
    `vLLM replicas of ${experiment}/${deploymentName}; preempt its warm placeholders.`,
    "PreemptLowerPriority",
  );
}

/** The placeholders' PriorityClass; `Never` preempts, so a placeholder never displaces real work. */
export function placeholderPriorityClass(experiment: string, deploymentName: string): Json {
  return priorityClass(
    placeholderPriorityClassName(experiment, deploymentName),
    placeholderLabels(experiment, deploymentName),
    PLACEHOLDER_PRIORITY,
    `Warm GPU headroom for ${experiment}/${deploymentName}; evicted first when a replica needs its node.`,
    "Never",
  );
}

/**
 * The placeholder Deployment, `replicas.warmPool` pods, one per node (required anti-affinity), or
 * undefined when the spec asks for no warm pool.
 */
export function placeholderDeployment(
  experiment: string,
  deploymentName: string,
  deployment: Deployment,
  namespace: string,
  options: VllmPodOptions = {},
): Json | undefined {
  if (deployment.replicas.warmPool === 0) return undefined;
  const labels = placeholderLabels(experiment, deploymentName);
  const selector = {
    "app.kubernetes.io/component": "warm-placeholder",
    "llm-ab/deployment": deploymentName,
    "llm-ab/experiment": experiment,
  };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { labels, name: `${inferenceName(experiment, deploymentName)}-placeholder`, namespace },
    spec: {
      replicas: deployment.replicas.warmPool,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels },
        spec: {
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [
                { labelSelector: { matchLabels: selector }, topologyKey: "kubernetes.io/hostname" },
              ],
            },
          },
          containers: [
            {
              // The serving image, so pulling it is done before a replica needs the node.
              command: ["sleep", "infinity"],
              image: deployment.image,
              imagePullPolicy: "IfNotPresent",
              name: "placeholder",
              resources: replicaResources(deployment, options),
            },
          ],
          priorityClassName: placeholderPriorityClassName(experiment, deploymentName),
          // Preemption should free the GPUs at once; the placeholder has nothing to flush.
          terminationGracePeriodSeconds: 0,
          ...gpuScheduling(deployment),
        },
      },
    },
  };
}
