/**
 * What each EC2 GPU instance type offers a vLLM replica: how many GPUs, and which GPU product (the
 * value of the `llm-ab/gpu-type` node label a deployment's `gpuType` selects on). Pure data and
 * checks, so a GPU request that cannot fit the node pool fails at preview, naming the field.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Deployment } from "../../spec/schema.ts";

/** Node label carrying the GPU product; `GpuNodePool` sets it, `gpuType` selects on it. */
export const GPU_TYPE_LABEL = "llm-ab/gpu-type";

/** GPUs per instance and the GPU product, for one EC2 instance type. */
export interface GpuInstance {
  readonly gpus: number;
  readonly gpuType: string;
}

// Sizes within a family share the GPU; only the multi-GPU sizes differ (AWS instance type pages).
function family(prefix: string, gpuType: string, sizes: Record<string, number>): [string, GpuInstance][] {
  return Object.entries(sizes).map(([size, gpus]) => [`${prefix}.${size}`, { gpus, gpuType }]);
}

const SINGLE_AND_MULTI = {
  xlarge: 1,
  "2xlarge": 1,
  "4xlarge": 1,
  "8xlarge": 1,
  "12xlarge": 4,
  "16xlarge": 1,
  "24xlarge": 4,
  "48xlarge": 8,
};

/** EC2 GPU instance types the node pool accepts, with their GPU counts and products. */
export const GPU_INSTANCE_TYPES: Readonly<Record<string, GpuInstance>> = Object.fromEntries([
  ...family("g4dn", "nvidia-t4", {
    xlarge: 1,
    "2xlarge": 1,
    "4xlarge": 1,
    "8xlarge": 1,
    "12xlarge": 4,
    "16xlarge": 1,
    metal: 8,
  }),
  ...family("g5", "nvidia-a10g", SINGLE_AND_MULTI),
  ...family("g6", "nvidia-l4", SINGLE_AND_MULTI),
  ...family("g6e", "nvidia-l40s", SINGLE_AND_MULTI),
  ...family("p4d", "nvidia-a100", { "24xlarge": 8 }),
  ...family("p4de", "nvidia-a100", { "24xlarge": 8 }),
  ...family("p5", "nvidia-h100", { "48xlarge": 8 }),
  ...family("p5e", "nvidia-h200", { "48xlarge": 8 }),
]);

/** The GPU instance, or an InputPropertyError at `propertyPath` naming the known types. */
export function gpuInstance(instanceType: string, propertyPath: string): GpuInstance {
  const instance = GPU_INSTANCE_TYPES[instanceType];
  if (instance === undefined) {
    throw new pulumi.InputPropertyError({
      propertyPath,
      reason: `${JSON.stringify(instanceType)} is not a known GPU instance type; use one of ${Object.keys(GPU_INSTANCE_TYPES).sort().join(", ")}`,
    });
  }
  return instance;
}

/**
 * Throws an InputPropertyError at `deployments.<name>.gpus` (or `.gpuType`) when a replica of the
 * deployment cannot be scheduled on any of the instance types: too few GPUs, or another product.
 */
export function checkGpuFit(
  deploymentName: string,
  deployment: Pick<Deployment, "gpus" | "gpuType">,
  instanceTypes: readonly string[],
): void {
  instanceTypes.forEach((type, index) => {
    const instance = gpuInstance(type, `instanceTypes[${index}]`);
    if (instance.gpus < deployment.gpus) {
      throw new pulumi.InputPropertyError({
        propertyPath: `deployments.${deploymentName}.gpus`,
        reason: `a replica needs ${deployment.gpus} GPUs but instance type ${type} has ${instance.gpus}; lower gpus or pick an instance type with at least ${deployment.gpus} GPUs`,
      });
    }
    if (deployment.gpuType !== undefined && deployment.gpuType !== instance.gpuType) {
      throw new pulumi.InputPropertyError({
        propertyPath: `deployments.${deploymentName}.gpuType`,
        reason: `asks for ${deployment.gpuType} but instance type ${type} has ${instance.gpuType}; its replicas would never schedule`,
      });
    }
  });
}

/** Node-group sizes that hold the deployments' replicas, plus their warm nodes. */
export interface NodePoolSizing {
  readonly minSize: number;
  readonly maxSize: number;
  readonly warmNodes: number;
}

/**
 * Sizes a node pool for the deployments on one instance type (after `checkGpuFit`): replicas pack
 * `floor(nodeGpus / gpus)` to a node; each warm node is held by one placeholder pod, so it is a
 * whole extra node on top of the replicas' nodes.
 */
export function nodePoolSizing(
  deployments: Readonly<Record<string, Pick<Deployment, "gpus" | "replicas">>>,
  nodeGpus: number,
): NodePoolSizing {
  let minSize = 0;
  let maxSize = 0;
  let warmNodes = 0;
  for (const { gpus, replicas } of Object.values(deployments)) {
    const perNode = Math.max(1, Math.floor(nodeGpus / gpus));
    minSize += Math.ceil(replicas.min / perNode) + replicas.warmPool;
    maxSize += Math.ceil(replicas.max / perNode) + replicas.warmPool;
    warmNodes += replicas.warmPool;
  }
  // EKS rejects a node group whose maxSize is 0.
  return { minSize, maxSize: Math.max(1, maxSize), warmNodes };
}
