import type * as aws from "@pulumi/aws";
import { beforeEach, describe, expect, it } from "vitest";
import { inputPropertyError, promisify, settle, setupPulumiMocks } from "../helpers/pulumi.ts";
import { chat8b, chat70b } from "./inference-fixtures.ts";

const recorder = await setupPulumiMocks();
const { GpuNodePool, NODE_ROLE_POLICIES } = await import("../../components/gpu-node-pool.ts");

type Args = ConstructorParameters<typeof GpuNodePool>[1];
type NodeGroupInputs = aws.eks.NodeGroupArgs & Record<string, unknown>;

const base: Args = {
  clusterName: "prod",
  deployments: { "chat-8b": chat8b },
  subnetIds: ["subnet-a", "subnet-b"],
};

async function build(args: Args) {
  const pool = new GpuNodePool("gpu", args);
  await settle([pool]);
  return pool;
}

const nodeGroup = () =>
  recorder.get("aws:eks/nodeGroup:NodeGroup", "gpu-node-group").inputs as NodeGroupInputs;

describe("GpuNodePool", () => {
  beforeEach(() => recorder.clear());

  it("creates an EKS managed node group with the NVIDIA AMI, the GPU instance types and the GPU taint", async () => {
    await build(base);
    const inputs = nodeGroup();
    expect(inputs.amiType).toBe("AL2023_x86_64_NVIDIA");
    expect(inputs.instanceTypes).toEqual(["g6.xlarge"]);
    expect(inputs.taints).toEqual([{ effect: "NO_SCHEDULE", key: "nvidia.com/gpu", value: "true" }]);
    expect(inputs.clusterName).toBe("prod");
    expect(inputs.subnetIds).toEqual(["subnet-a", "subnet-b"]);
  });

  it("labels the nodes with the GPU product the deployments' gpuType selects on", async () => {
    const pool = await build({ ...base, labels: { team: "support" } });
    expect(nodeGroup().labels).toEqual({ "llm-ab/gpu-type": "nvidia-l4", team: "support" });
    expect(await promisify(pool.gpuType)).toBe("nvidia-l4");
  });

  it("sizes the group for the replicas plus one node per warm-pool slot", async () => {
    await build(base);
    // chat-8b: min 2, max 6, warmPool 1, one GPU per replica on one-GPU nodes.
    expect(nodeGroup().scalingConfig).toEqual({ desiredSize: 3, maxSize: 7, minSize: 3 });
  });

  it("keeps the spec's warm nodes in an EC2 warm pool, stopped and reused on scale-in", async () => {
    await build(base);
    expect(nodeGroup().warmPoolConfig).toEqual({ minSize: 1, poolState: "STOPPED", reuseOnScaleIn: true });
  });

  it("omits the warm pool when no deployment asks for one", async () => {
    const cold = { ...chat8b, replicas: { ...chat8b.replicas, warmPool: 0 } };
    await build({ ...base, deployments: { "chat-8b": cold } });
    expect(nodeGroup().warmPoolConfig).toBeUndefined();
  });

  it("creates the node IAM role with the worker, CNI and ECR policies", async () => {
    const pool = await build(base);
    const role = recorder.get("aws:iam/role:Role", "gpu-role").inputs;
    expect(JSON.parse(role.assumeRolePolicy as string).Statement[0].Principal).toEqual({
      Service: "ec2.amazonaws.com",
    });
    const policies = recorder
      .ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
      .map((r) => r.inputs.policyArn)
      .sort();
    expect(policies).toEqual([...NODE_ROLE_POLICIES].sort());
    expect(await promisify(pool.nodeRoleArn)).toBe(nodeGroup().nodeRoleArn);
  });

  it("reuses a given node role instead of creating one", async () => {
    await build({ ...base, nodeRoleArn: "arn:aws:iam::123456789012:role/gpu-nodes" });
    expect(recorder.ofType("aws:iam/role:Role")).toEqual([]);
    expect(nodeGroup().nodeRoleArn).toBe("arn:aws:iam::123456789012:role/gpu-nodes");
  });

  it("creates nothing when the cluster already has GPU nodes", async () => {
    const pool = await build({ ...base, existing: true });
    expect(recorder.resources.filter((r) => r.custom)).toEqual([]);
    expect(await promisify(pool.nodeGroupName)).toBeUndefined();
  });

  it.each([
    {
      when: "an instance type has fewer GPUs than a replica",
      args: { ...base, deployments: { "chat-70b": chat70b }, instanceTypes: ["g6e.xlarge"] },
      propertyPath: "deployments.chat-70b.gpus",
    },
    {
      when: "the instance type has another GPU product than gpuType",
      args: { ...base, instanceTypes: ["g5.xlarge"] },
      propertyPath: "deployments.chat-8b.gpuType",
    },
    {
      when: "an instance type is not a known GPU type",
      args: { ...base, instanceTypes: ["g6.xlarge", "m5.large"] },
      propertyPath: "instanceTypes[1]",
    },
    {
      when: "the instance types mix GPU products",
      args: { ...base, deployments: {}, instanceTypes: ["g6.xlarge", "g5.xlarge"] },
      propertyPath: "instanceTypes",
    },
    {
      when: "no instance type is given",
      args: { ...base, instanceTypes: [] },
      propertyPath: "instanceTypes",
    },
  ])("fails at preview naming $propertyPath when $when", ({ args, propertyPath }) => {
    expect(inputPropertyError(() => new GpuNodePool("gpu", args)).propertyPath).toBe(propertyPath);
  });

  it("checks the fit even when the cluster's GPU nodes already exist", () => {
    const args = {
      ...base,
      deployments: { "chat-70b": chat70b },
      existing: true,
      instanceTypes: ["g6e.xlarge"],
    };
    expect(inputPropertyError(() => new GpuNodePool("gpu", args)).propertyPath).toBe(
      "deployments.chat-70b.gpus",
    );
  });
});
