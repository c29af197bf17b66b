/** Spec deployments for the component tests, parsed by the real schema so defaults apply. */
import { deploymentSchema } from "../../spec/deployment-schema.ts";
import type { Deployment } from "../../spec/schema.ts";

/** Parses a deployment the way the spec loader does. */
export function deployment(input: Record<string, unknown>): Deployment {
  return deploymentSchema.parse(input);
}

/** One L4 GPU, 2–6 replicas, one warm node: the policy-prompt example's `chat-8b`. */
export const chat8b: Deployment = deployment({
  gpuType: "nvidia-l4",
  image: "vllm/vllm-openai:v0.11.0",
  model: "meta-llama/Llama-3.1-8B-Instruct",
  replicas: { max: 6, min: 2, warmPool: 1 },
  servedModelName: "support-chat",
  vllmArgs: ["--enable-prefix-caching"],
});

/** Two L40S GPUs per replica, a fixed context: the model-swap example's 70B deployment. */
export const chat70b: Deployment = deployment({
  gpus: 2,
  gpuType: "nvidia-l40s",
  image: "vllm/vllm-openai@sha256:3f0a6bd1e9c2c57b8d4a0e51f2b6c7d8e9f00112233445566778899aabbccdde",
  maxModelLen: 16384,
  model: "hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4",
  replicas: { max: 4, min: 1, warmPool: 1 },
});
