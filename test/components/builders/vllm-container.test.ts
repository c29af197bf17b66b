import { describe, expect, it } from "vitest";
import {
  buildVllmContainer,
  gpuScheduling,
  replicaResources,
  startupBudgetSeconds,
  vllmArgs,
  vllmVolumes,
} from "../../../components/builders/vllm-container.ts";
import { chat8b, chat70b } from "../inference-fixtures.ts";

type Probe = { httpGet: { path: string; port: string }; periodSeconds: number; failureThreshold: number };

describe("buildVllmContainer", () => {
  it("requests and limits exactly the spec's GPUs", () => {
    const resources = buildVllmContainer(chat70b).resources as Record<string, Record<string, string>>;
    expect(resources.limits?.["nvidia.com/gpu"]).toBe("2");
    expect(resources.requests?.["nvidia.com/gpu"]).toBe("2");
  });

  it("scales CPU and memory with the GPU count", () => {
    expect(replicaResources({ gpus: 2 }, { cpuPerGpu: 6, memoryGiPerGpu: 40 })).toEqual({
      limits: { memory: "80Gi", "nvidia.com/gpu": "2" },
      requests: { cpu: "12", memory: "80Gi", "nvidia.com/gpu": "2" },
    });
  });

  it("runs the pinned image from the spec", () => {
    expect(buildVllmContainer(chat70b).image).toBe(chat70b.image);
  });

  it("probes startup and liveness on /health and readiness on /v1/models", () => {
    const container = buildVllmContainer(chat8b);
    expect((container.startupProbe as Probe).httpGet).toEqual({ path: "/health", port: "http" });
    expect((container.livenessProbe as Probe).httpGet).toEqual({ path: "/health", port: "http" });
    expect((container.readinessProbe as Probe).httpGet).toEqual({ path: "/v1/models", port: "http" });
  });

  it.each([
    { budget: undefined, granted: 1200 },
    { budget: 600, granted: 600 },
    { budget: 605, granted: 610 },
  ])("gives the model at least $granted s to load when the budget is $budget", ({ budget, granted }) => {
    const container = buildVllmContainer(
      chat8b,
      budget === undefined ? {} : { modelLoadBudgetSeconds: budget },
    );
    expect(startupBudgetSeconds(container)).toBe(granted);
  });

  it("passes the managed flags, then the spec's extra vLLM arguments", () => {
    expect(vllmArgs(chat70b)).toEqual([
      "--model",
      chat70b.model,
      "--served-model-name",
      chat70b.model,
      "--tensor-parallel-size",
      "2",
      "--max-model-len",
      "16384",
      "--host",
      "0.0.0.0",
      "--port",
      "8000",
    ]);
    expect(vllmArgs(chat8b).slice(-1)).toEqual(["--enable-prefix-caching"]);
  });

  it("reads the Hugging Face token from a Secret, never from a literal", () => {
    const container = buildVllmContainer(chat8b, { hfTokenSecret: { key: "token", name: "hf" } });
    expect(container.env).toContainEqual({
      name: "HF_TOKEN",
      valueFrom: { secretKeyRef: { key: "token", name: "hf" } },
    });
  });

  it("mounts a model cache and a memory-backed /dev/shm", () => {
    expect(vllmVolumes({ modelCacheClaim: "models" })).toEqual([
      { name: "model-cache", persistentVolumeClaim: { claimName: "models" } },
      { emptyDir: { medium: "Memory", sizeLimit: "16Gi" }, name: "dshm" },
    ]);
    expect(buildVllmContainer(chat8b).volumeMounts).toContainEqual({ mountPath: "/dev/shm", name: "dshm" });
  });
});

describe("gpuScheduling", () => {
  it("tolerates the GPU taint and selects the spec's gpuType", () => {
    expect(gpuScheduling(chat8b)).toEqual({
      nodeSelector: { "llm-ab/gpu-type": "nvidia-l4" },
      tolerations: [{ effect: "NoSchedule", key: "nvidia.com/gpu", operator: "Equal", value: "true" }],
    });
  });

  it("selects any GPU node when the spec names no gpuType", () => {
    expect(gpuScheduling({ gpuType: undefined }).nodeSelector).toEqual({});
  });
});
