/**
 * `deployments`: the GPU inference servers (vLLM) the variants run on. Variants may share one.
 */
import { z } from "zod";
import { describeValue } from "./issue-messages.ts";
import { between, deploymentName, httpUrl, intAtLeast, text } from "./primitives.ts";

/**
 * An image reference is pinned when it names a tag other than `latest` or a sha256 digest: a
 * moving tag would let two replicas of one variant run different servers mid-experiment.
 */
const IMAGE_REFERENCE =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** Why `image` is not a pinned reference, or undefined when it is. */
export function imagePinProblem(image: string): string | undefined {
  const example = "e.g. vllm/vllm-openai:v0.11.0 or vllm/vllm-openai@sha256:<64 hex digits>";
  if (!IMAGE_REFERENCE.test(image)) {
    return `must be a container image reference (registry/repository:tag or @sha256:digest, lowercase), got ${describeValue(image)} (${example})`;
  }
  const [withoutDigest = "", digest] = image.split("@");
  if (digest !== undefined) return undefined;
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf("/") + 1);
  const colon = lastSegment.indexOf(":");
  if (colon < 0) return `must be pinned to a tag or digest, got ${describeValue(image)} (${example})`;
  if (lastSegment.slice(colon + 1) === "latest") {
    return `must not use the moving tag "latest", got ${describeValue(image)}; pin a version (${example})`;
  }
  return undefined;
}

const image = z
  .string()
  .superRefine((value, ctx) => {
    const problem = imagePinProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem, input: value });
  })
  .describe(
    "vLLM (or compatible) server image, pinned by tag or digest; `:latest` and untagged images are rejected",
  );

export const replicasSchema = z
  .strictObject({
    min: intAtLeast(0).default(1).describe("Fewest serving replicas (autoscaling floor). Default 1."),
    max: intAtLeast(0)
      .optional()
      .describe(
        "Most serving replicas (autoscaling ceiling); must be ≥ min. Default: equal to min (no autoscaling).",
      ),
    warmPool: intAtLeast(0)
      .default(0)
      .describe(
        "GPU nodes kept provisioned but idle so a scale-up skips node boot; must be ≤ max. Default 0 (no warm pool).",
      ),
  })
  .transform((replicas) => ({ ...replicas, max: replicas.max ?? replicas.min }))
  .describe("Replica counts for the deployment's autoscaling.");

export const warmupSchema = z
  .strictObject({
    requests: intAtLeast(0)
      .default(20)
      .describe("A replica is cold until it has served this many requests. Default 20."),
    seconds: intAtLeast(0)
      .default(120)
      .describe("A replica is cold until it has been up this many seconds. Default 120."),
    idleSeconds: intAtLeast(1)
      .default(300)
      .describe("A replica idle longer than this is cold again (its caches are gone). Default 300."),
  })
  .describe('When the router labels a replica\'s requests `replica_state="cold"` instead of warm.');

export const priceSchema = z
  .strictObject({
    inputPerMillionTokens: z.number().min(0).describe("USD per million prompt tokens."),
    outputPerMillionTokens: z.number().min(0).describe("USD per million generated tokens."),
    gpuHourUsd: z
      .number()
      .min(0)
      .optional()
      .describe("USD per GPU-hour, for capacity cost on dashboards. Absent: capacity cost is not shown."),
  })
  .describe(
    "Prices the router uses to compute `llmab_cost_usd_total` (and so every cost guardrail), in USD.",
  );

/** Flags the stack derives from the fields above; setting them again in `vllmArgs` would conflict. */
export const managedVllmFlags: Readonly<Record<string, string>> = {
  "--model": "model",
  "--served-model-name": "servedModelName",
  "--tensor-parallel-size": "gpus",
  "--max-model-len": "maxModelLen",
  "--port": "(set by the stack)",
  "--host": "(set by the stack)",
};

export const deploymentSchema = z
  .strictObject({
    image,
    model: text.describe("Model to load: a Hugging Face repository id or a path inside the image."),
    servedModelName: text
      .optional()
      .describe("Name the server answers to in the request `model` field. Default: the value of `model`."),
    // One node holds at most 8 GPUs; a model that needs more is a multi-node deployment this stack
    // does not build.
    gpus: between(1, 8, { integer: true })
      .default(1)
      .describe("GPUs per replica (1–8); more than one shards the model (tensor parallel). Default 1."),
    gpuType: text
      .optional()
      .describe("GPU product to schedule on, e.g. `nvidia-l4` (node selector). Absent: any GPU node."),
    replicas: replicasSchema
      .prefault({})
      .describe("Replica counts for autoscaling. Default: min 1, max = min, warmPool 0."),
    warmup: warmupSchema
      .prefault({})
      .describe("When a replica counts as cold. Default: 20 requests, 120 seconds, 300 idle seconds."),
    endpoints: z
      .array(httpUrl)
      .min(1)
      .optional()
      .describe(
        "Base URLs of already-running servers, one per replica. Only outside Kubernetes; inside, the router finds replicas through headless-Service DNS.",
      ),
    vllmArgs: z
      .array(z.string())
      .optional()
      .describe('Extra vLLM server arguments, e.g. ["--enable-prefix-caching"]. Absent: none.'),
    maxModelLen: intAtLeast(1)
      .optional()
      .describe("Context length the server allocates for (`--max-model-len`). Absent: the model's own."),
    price: priceSchema
      .optional()
      .describe(
        "Token prices in USD, for cost metrics; required when a cost guardrail is declared. Absent: no cost.",
      ),
  })
  .transform((deployment) => ({
    ...deployment,
    servedModelName: deployment.servedModelName ?? deployment.model,
  }));

export const deploymentsSchema = z
  .record(deploymentName, deploymentSchema)
  .describe("GPU inference servers by name; variants reference them in `deployment`.");

export type Deployment = z.output<typeof deploymentSchema>;
