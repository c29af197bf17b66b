import { describe, expect, it } from "vitest";
import {
  checkGpuFit,
  GPU_INSTANCE_TYPES,
  nodePoolSizing,
} from "../../../components/builders/gpu-instances.ts";
import { inputPropertyError } from "../../helpers/pulumi.ts";

const replicas = (min: number, max: number, warmPool: number) => ({ max, min, warmPool });

describe("checkGpuFit", () => {
  it.each([
    { gpus: 1, gpuType: "nvidia-l4", types: ["g6.xlarge", "g6.2xlarge"] },
    { gpus: 4, gpuType: "nvidia-l40s", types: ["g6e.12xlarge"] },
    { gpus: 8, gpuType: undefined, types: ["p5.48xlarge"] },
  ])("accepts $gpus GPUs of $gpuType on $types", ({ gpus, gpuType, types }) => {
    expect(() => checkGpuFit("d", { gpus, gpuType }, types)).not.toThrow();
  });

  it.each([
    {
      gpus: 2,
      gpuType: undefined,
      types: ["g6.xlarge"],
      path: "deployments.d.gpus",
      reason: /needs 2 GPUs .* g6\.xlarge has 1/,
    },
    {
      gpus: 8,
      gpuType: undefined,
      types: ["g5.48xlarge", "g5.12xlarge"],
      path: "deployments.d.gpus",
      reason: /g5\.12xlarge has 4/,
    },
    {
      gpus: 1,
      gpuType: "nvidia-h100",
      types: ["g6.xlarge"],
      path: "deployments.d.gpuType",
      reason: /nvidia-l4/,
    },
    {
      gpus: 1,
      gpuType: undefined,
      types: ["m5.large"],
      path: "instanceTypes[0]",
      reason: /not a known GPU instance type/,
    },
  ])("rejects $gpus GPUs of $gpuType on $types at $path", ({ gpus, gpuType, types, path, reason }) => {
    const error = inputPropertyError(() => checkGpuFit("d", { gpus, gpuType }, types));
    expect(error.propertyPath).toBe(path);
    expect(error.reason).toMatch(reason);
  });
});

describe("GPU_INSTANCE_TYPES", () => {
  it("holds at most 8 GPUs per instance, the spec's own ceiling", () => {
    for (const instance of Object.values(GPU_INSTANCE_TYPES)) expect(instance.gpus).toBeLessThanOrEqual(8);
  });
});

describe("nodePoolSizing", () => {
  it.each([
    {
      name: "one GPU per replica and node",
      gpus: 1,
      nodeGpus: 1,
      r: replicas(2, 6, 1),
      expected: { maxSize: 7, minSize: 3, warmNodes: 1 },
    },
    {
      name: "two replicas packed per 4-GPU node",
      gpus: 2,
      nodeGpus: 4,
      r: replicas(3, 5, 1),
      expected: { maxSize: 4, minSize: 3, warmNodes: 1 },
    },
    {
      name: "scale to zero and no warm pool",
      gpus: 1,
      nodeGpus: 1,
      r: replicas(0, 0, 0),
      expected: { maxSize: 1, minSize: 0, warmNodes: 0 },
    },
  ])("sizes $name", ({ gpus, nodeGpus, r, expected }) => {
    expect(nodePoolSizing({ d: { gpus, replicas: r } }, nodeGpus)).toEqual(expected);
  });

  it("adds up the deployments sharing the pool", () => {
    const sizing = nodePoolSizing(
      { a: { gpus: 1, replicas: replicas(1, 2, 1) }, b: { gpus: 1, replicas: replicas(2, 4, 2) } },
      1,
    );
    expect(sizing).toEqual({ maxSize: 9, minSize: 6, warmNodes: 3 });
  });
});
