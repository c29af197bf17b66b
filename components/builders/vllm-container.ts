/**
 * The vLLM serving pod as plain Kubernetes data: names and labels, the container (GPU limits,
 * probes, model cache, shared memory) and the scheduling onto tainted GPU nodes. Pure, so it is
 * tested without Pulumi mocks; `InferenceDeployment` hands it to `@pulumi/kubernetes`.
 */
import type { Deployment } from "../../spec/schema.ts";
import { GPU_TYPE_LABEL } from "./gpu-instances.ts";

/** A plain object keyed by string. */
export type Json = Record<string, unknown>;

/** The port vLLM serves the OpenAI API and `/metrics` on; the router's replica DNS uses it. */
export const VLLM_PORT = 8000;
/** Where the model cache is mounted; `HF_HOME` points there so downloads survive restarts. */
export const MODEL_CACHE_DIR = "/model-cache";
/** The taint `GpuNodePool` puts on GPU nodes, so only pods that tolerate it land there. */
export const GPU_TAINT = { key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" } as const;
/** The extended resource the NVIDIA device plugin advertises. */
export const GPU_RESOURCE = "nvidia.com/gpu";
const PROBE_PERIOD_SECONDS = 10;

/** Where the Hugging Face token comes from (a Secret key; never a literal). */
export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

/** Knobs for the serving pod; every one has a default. */
export interface VllmPodOptions {
  /** Seconds the startup probe waits for the model to load before the pod restarts. Default 1200. */
  readonly modelLoadBudgetSeconds?: number;
  /** CPU request per GPU. Default 4. */
  readonly cpuPerGpu?: number;
  /** Memory request and limit per GPU, in GiB. Default 32. */
  readonly memoryGiPerGpu?: number;
  /** Size of the `/dev/shm` tmpfs (NCCL and tensor parallel need more than the 64 MiB default). Default "16Gi". */
  readonly shmSize?: string;
  /** PersistentVolumeClaim for the model cache. Default: an emptyDir (re-downloads on reschedule). */
  readonly modelCacheClaim?: string;
  /** Size limit of the emptyDir model cache. Default "200Gi". */
  readonly modelCacheSize?: string;
  /** Secret key with a Hugging Face token for gated models. Default: none. */
  readonly hfTokenSecret?: SecretKeyRef;
}

/** `<experiment>-<deployment>`: the headless Service the router resolves (`LLM_AB_REPLICA_DNS`). */
export function inferenceName(experiment: string, deploymentName: string): string {
  return `${experiment}-${deploymentName}`;
}

/** Labels that select the serving pods (Services, PDB, PodMonitor); placeholders lack `component: inference`. */
export function servingSelector(experiment: string, deploymentName: string): Record<string, string> {
  return {
    "app.kubernetes.io/component": "inference",
    "llm-ab/deployment": deploymentName,
    "llm-ab/experiment": experiment,
  };
}

/** Every label a serving object carries. */
export function servingLabels(experiment: string, deploymentName: string): Record<string, string> {
  return {
    ...servingSelector(experiment, deploymentName),
    "app.kubernetes.io/managed-by": "llm-ab",
    "app.kubernetes.io/name": "vllm",
    "app.kubernetes.io/part-of": "llm-ab",
  };
}

/** vLLM's arguments: the flags the stack owns (see `managedVllmFlags`), then the spec's `vllmArgs`. */
export function vllmArgs(deployment: Deployment): string[] {
  return [
    "--model",
    deployment.model,
    "--served-model-name",
    deployment.servedModelName,
    "--tensor-parallel-size",
    String(deployment.gpus),
    ...(deployment.maxModelLen === undefined ? [] : ["--max-model-len", String(deployment.maxModelLen)]),
    "--host",
    "0.0.0.0",
    "--port",
    String(VLLM_PORT),
    ...(deployment.vllmArgs ?? []),
  ];
}

/** GPU, CPU and memory for one replica; the placeholder pods reserve exactly the same. */
export function replicaResources(deployment: Pick<Deployment, "gpus">, options: VllmPodOptions = {}): Json {
  const gpus = String(deployment.gpus);
  const cpu = String((options.cpuPerGpu ?? 4) * deployment.gpus);
  const memory = `${(options.memoryGiPerGpu ?? 32) * deployment.gpus}Gi`;
  // Extended resources need requests equal to limits; memory limit = request avoids OOM surprises.
  return {
    limits: { [GPU_RESOURCE]: gpus, memory },
    requests: { [GPU_RESOURCE]: gpus, cpu, memory },
  };
}

/** Tolerations and node selector that put a pod on the deployment's GPU nodes. */
export function gpuScheduling(deployment: Pick<Deployment, "gpuType">): Json {
  return {
    nodeSelector: deployment.gpuType === undefined ? {} : { [GPU_TYPE_LABEL]: deployment.gpuType },
    tolerations: [{ ...GPU_TAINT, operator: "Equal" }],
  };
}

function httpProbe(path: string, periodSeconds: number, failureThreshold: number): Json {
  return {
    failureThreshold,
    httpGet: { path, port: "http" },
    periodSeconds,
    timeoutSeconds: 5,
  };
}

/**
 * The vLLM container. The startup probe gives the model `modelLoadBudgetSeconds` to load (download
 * plus weights onto the GPUs) before liveness takes over; readiness waits for `/v1/models`, which
 * answers only once the model is served.
 */
export function buildVllmContainer(deployment: Deployment, options: VllmPodOptions = {}): Json {
  const budget = options.modelLoadBudgetSeconds ?? 1200;
  return {
    args: vllmArgs(deployment),
    command: ["python3", "-m", "vllm.entrypoints.openai.api_server"],
    env: [
      { name: "HF_HOME", value: MODEL_CACHE_DIR },
      ...(options.hfTokenSecret === undefined
        ? []
        : [{ name: "HF_TOKEN", valueFrom: { secretKeyRef: { ...options.hfTokenSecret } } }]),
    ],
    image: deployment.image,
    imagePullPolicy: "IfNotPresent",
    livenessProbe: httpProbe("/health", PROBE_PERIOD_SECONDS, 3),
    name: "vllm",
    ports: [{ containerPort: VLLM_PORT, name: "http", protocol: "TCP" }],
    readinessProbe: httpProbe("/v1/models", 5, 3),
    resources: replicaResources(deployment, options),
    startupProbe: httpProbe("/health", PROBE_PERIOD_SECONDS, Math.ceil(budget / PROBE_PERIOD_SECONDS)),
    volumeMounts: [
      { mountPath: MODEL_CACHE_DIR, name: "model-cache" },
      { mountPath: "/dev/shm", name: "dshm" },
    ],
  };
}

/** The model cache (a claim, or a sized emptyDir) and the memory-backed `/dev/shm`. */
export function vllmVolumes(options: VllmPodOptions = {}): Json[] {
  return [
    options.modelCacheClaim === undefined
      ? { emptyDir: { sizeLimit: options.modelCacheSize ?? "200Gi" }, name: "model-cache" }
      : { name: "model-cache", persistentVolumeClaim: { claimName: options.modelCacheClaim } },
    { emptyDir: { medium: "Memory", sizeLimit: options.shmSize ?? "16Gi" }, name: "dshm" },
  ];
}

/** The startup budget actually granted: failureThreshold × period, at least the requested budget. */
export function startupBudgetSeconds(container: Json): number {
  const probe = container.startupProbe as { failureThreshold: number; periodSeconds: number };
  return probe.failureThreshold * probe.periodSeconds;
}
