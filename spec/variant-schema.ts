/**
 * `variants`: what each arm of the experiment sends to which deployment.
 *
 * Rule for the control: a variant's `role` is `control` or `treatment`; when omitted it is
 * `control` for the variant named "control" and `treatment` for every other. A spec needs exactly
 * one control and at least one treatment (checked in validate.ts). With several treatments the
 * rollout's treatment percent is split equally among them.
 */
import { z } from "zod";
import { between, deploymentName, intAtLeast, text, variantName } from "./primitives.ts";

export const variantRoles = ["control", "treatment"] as const;
export type VariantRole = (typeof variantRoles)[number];

/** The role a variant has when its spec does not say: the key "control" names the control. */
export function defaultVariantRole(variantKey: string): VariantRole {
  return variantKey === "control" ? "control" : "treatment";
}

/**
 * Sampling parameters, named as in the OpenAI-compatible request body. Each one set here replaces
 * the value in the application's request; parameters not set pass through unchanged.
 */
export const samplingParamsSchema = z
  .strictObject({
    temperature: between(0, 2).optional().describe("Sampling temperature, 0–2 (0 is greedy)."),
    top_p: between(0, 1, { exclusiveMin: true }).optional().describe("Nucleus sampling mass, in (0, 1]."),
    top_k: z.int().min(-1).optional().describe("Sample among the k most likely tokens; -1 disables (vLLM)."),
    min_p: between(0, 1)
      .optional()
      .describe("Drop tokens below this fraction of the top token's probability (vLLM)."),
    max_tokens: intAtLeast(1).optional().describe("Most tokens to generate, > 0."),
    seed: z
      .int()
      .optional()
      .describe("Sampling seed. It narrows, but does not remove, run-to-run variation."),
    presence_penalty: between(-2, 2).optional().describe("Penalty for tokens already present, -2–2."),
    frequency_penalty: between(-2, 2).optional().describe("Penalty proportional to token frequency, -2–2."),
    repetition_penalty: z
      .number()
      .gt(0)
      .optional()
      .describe("Multiplicative repetition penalty, > 0; 1 is none (vLLM)."),
    stop: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
        error: "must be a non-empty string or a non-empty list of non-empty strings",
      })
      .optional()
      .describe("Stop sequence(s): generation ends before any of them."),
  })
  .describe("Sampling parameters that override the application's request, by OpenAI field name.");

export const systemPromptModes = ["replace", "prepend"] as const;

export const variantSchema = z.strictObject({
  role: z
    .enum(variantRoles)
    .optional()
    .describe(
      '`control` or `treatment`. Default: `control` for the variant named "control", else `treatment`.',
    ),
  deployment: deploymentName.describe(
    "Name of the deployment (under `deployments`) that serves this variant.",
  ),
  model: text
    .optional()
    .describe(
      "Value written into the request's `model` field, e.g. a LoRA adapter's name. Default: the deployment's servedModelName.",
    ),
  systemPrompt: z
    .string()
    .min(1)
    .optional()
    .describe("System prompt this variant uses. Absent: the application's own system message is left alone."),
  systemPromptMode: z
    .enum(systemPromptModes)
    .default("replace")
    .describe(
      "`replace`: the application's system message is replaced by systemPrompt; `prepend`: systemPrompt goes before it. Default replace. Only used with systemPrompt.",
    ),
  params: samplingParamsSchema
    .prefault({})
    .describe(
      "Sampling parameters that override the application's request. Default: none, all pass through.",
    ),
});

export const variantsSchema = z
  .record(variantName, variantSchema)
  .describe("The experiment's arms by name: exactly one control and at least one treatment.");

export type VariantInput = z.input<typeof variantSchema>;
