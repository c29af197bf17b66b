/**
 * The GPU nodes the vLLM replicas run on: an EKS managed node group of one GPU product, tainted so
 * only GPU workloads land there, sized for the spec's replicas plus warm nodes, with an EC2 Auto
 * Scaling warm pool of pre-initialised instances; or nothing when the cluster already has GPU nodes.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Deployment } from "../spec/schema.ts";
import { checkGpuFit, GPU_TYPE_LABEL, gpuInstance, nodePoolSizing } from "./builders/gpu-instances.ts";
import { GPU_TAINT } from "./builders/vllm-container.ts";

/** Managed policies every EKS worker node role needs (kubelet, VPC CNI, image pulls from ECR). */
export const NODE_ROLE_POLICIES = [
  "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
  "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
  "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
] as const;

/** Warm pool settings (`aws.eks.NodeGroupWarmPoolConfig`) with the defaults this stack applies. */
export interface GpuWarmPoolArgs {
  /** Instances kept in the warm pool. Default: the sum of the deployments' `replicas.warmPool`. */
  readonly minSize?: number;
  /**
   * State of warm instances. Default "STOPPED": booted once (driver and AMI initialised) and then
   * stopped, so no GPU-hours are billed while they wait.
   */
  readonly poolState?: "STOPPED" | "RUNNING" | "HIBERNATED";
  /** Return scaled-in instances to the pool instead of terminating them. Default true. */
  readonly reuseOnScaleIn?: boolean;
}

/**
 * Plain `instanceTypes` and `deployments`: they are checked against each other at preview.
 * `clusterName`, `subnetIds`, `capacityType` and `tags` are the node group's own arguments.
 */
export interface GpuNodePoolArgs
  extends Pick<aws.eks.NodeGroupArgs, "clusterName" | "subnetIds" | "capacityType" | "tags"> {
  /** The spec's deployments this pool hosts; each must fit one node. */
  readonly deployments: Readonly<Record<string, Deployment>>;
  /** EC2 GPU instance types, all of one GPU product. Default ["g6.xlarge"] (one NVIDIA L4). */
  readonly instanceTypes?: readonly string[];
  /**
   * The cluster already has GPU nodes (tainted and labelled like this pool's): create nothing,
   * only check the deployments fit `instanceTypes`. Default false.
   */
  readonly existing?: boolean;
  /** EKS AMI type. Default "AL2023_x86_64_NVIDIA" (NVIDIA driver and container toolkit baked in). */
  readonly amiType?: pulumi.Input<string>;
  /** Extra node labels. Default none (the GPU-type label is always set). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Node-group sizes. Default: from the deployments (`nodePoolSizing`). */
  readonly scaling?: { readonly minSize: number; readonly maxSize: number };
  /** Warm pool settings; none is created when its size is 0. Defaults: see `GpuWarmPoolArgs`. */
  readonly warmPool?: GpuWarmPoolArgs;
  /** An existing node IAM role's ARN. Default: a role created here with `NODE_ROLE_POLICIES`. */
  readonly nodeRoleArn?: pulumi.Input<string>;
}

/** An EKS managed GPU node group, its IAM role and warm pool. */
export class GpuNodePool extends pulumi.ComponentResource {
  /** The GPU product (`llm-ab/gpu-type` label value), e.g. "nvidia-l4". */
  public readonly gpuType: pulumi.Output<string>;
  /** The node group's name; undefined when `existing`. */
  public readonly nodeGroupName: pulumi.Output<string | undefined>;
  /** The nodes' IAM role ARN; undefined when `existing`. */
  public readonly nodeRoleArn: pulumi.Output<string | undefined>;

  constructor(name: string, args: GpuNodePoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("llm-ab:components:GpuNodePool", name, {}, opts);
    const instanceTypes = args.instanceTypes ?? ["g6.xlarge"];
    if (instanceTypes.length === 0) {
      throw new pulumi.InputPropertyError({
        propertyPath: "instanceTypes",
        reason: "must name at least one GPU instance type",
      });
    }
    const instances = instanceTypes.map((type, index) => gpuInstance(type, `instanceTypes[${index}]`));
    const products = [...new Set(instances.map((i) => i.gpuType))];
    if (products.length > 1) {
      throw new pulumi.InputPropertyError({
        propertyPath: "instanceTypes",
        reason: `mixes GPU products (${products.join(", ")}); the gpu-type label must hold for every node, so use one node pool per product`,
      });
    }
    for (const [deploymentName, deployment] of Object.entries(args.deployments)) {
      checkGpuFit(deploymentName, deployment, instanceTypes);
    }
    const gpuType = products[0] ?? "";
    this.gpuType = pulumi.output(gpuType);

    if (args.existing ?? false) {
      this.nodeGroupName = pulumi.output(undefined);
      this.nodeRoleArn = pulumi.output(undefined);
      this.registerOutputs({ gpuType: this.gpuType });
      return;
    }

    // Size for the smallest instance type, the worst case for packing replicas.
    const nodeGpus = Math.min(...instances.map((i) => i.gpus));
    const sizing = nodePoolSizing(args.deployments, nodeGpus);
    const scaling = args.scaling ?? sizing;
    const warmSize = args.warmPool?.minSize ?? sizing.warmNodes;
    const child = { parent: this };

    let roleArn = args.nodeRoleArn === undefined ? undefined : pulumi.output(args.nodeRoleArn);
    const attachments: aws.iam.RolePolicyAttachment[] = [];
    if (roleArn === undefined) {
      const role = new aws.iam.Role(
        `${name}-role`,
        {
          assumeRolePolicy: JSON.stringify({
            Statement: [
              { Action: "sts:AssumeRole", Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" } },
            ],
            Version: "2012-10-17",
          }),
          description: `GPU nodes of ${name} (llm-ab)`,
        },
        child,
      );
      NODE_ROLE_POLICIES.forEach((policyArn, index) => {
        attachments.push(
          new aws.iam.RolePolicyAttachment(`${name}-policy-${index}`, { policyArn, role: role.name }, child),
        );
      });
      roleArn = role.arn;
    }

    const nodeGroup = new aws.eks.NodeGroup(
      `${name}-node-group`,
      {
        amiType: args.amiType ?? "AL2023_x86_64_NVIDIA",
        capacityType: args.capacityType ?? "ON_DEMAND",
        clusterName: args.clusterName,
        instanceTypes: [...instanceTypes],
        labels: { ...args.labels, [GPU_TYPE_LABEL]: gpuType },
        nodeRoleArn: roleArn,
        scalingConfig: { desiredSize: scaling.minSize, maxSize: scaling.maxSize, minSize: scaling.minSize },
        subnetIds: args.subnetIds,
        tags: args.tags,
        taints: [{ effect: "NO_SCHEDULE", key: GPU_TAINT.key, value: GPU_TAINT.value }],
        // One node at a time: a node holds whole replicas, and the PDB lets one go at a time.
        updateConfig: { maxUnavailable: 1 },
        ...(warmSize > 0
          ? {
              warmPoolConfig: {
                minSize: warmSize,
                poolState: args.warmPool?.poolState ?? "STOPPED",
                reuseOnScaleIn: args.warmPool?.reuseOnScaleIn ?? true,
              },
            }
          : {}),
      },
      // The role must carry its policies before nodes join, or they never register.
      { ...child, dependsOn: attachments, ignoreChanges: ["scalingConfig.desiredSize"] },
    );

    this.nodeGroupName = nodeGroup.nodeGroupName;
    this.nodeRoleArn = roleArn;
    this.registerOutputs({
      gpuType: this.gpuType,
      nodeGroupName: this.nodeGroupName,
      nodeRoleArn: this.nodeRoleArn,
    });
  }
}
