/** A three-arm prompt test (control, treatment-a, treatment-b) and unit data with exact counts. */
import { parseSpec } from "../../spec/load.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { generateUnits, type UnitRecord } from "./unit-data.ts";

/**
 * The duel of unit-data.ts with a second treatment and a second secondary metric (`escalated`,
 * so the spec's correction across secondaries has something to adjust): 60 % of units split
 * between two treatments, 40/30/30, fixed horizon.
 */
export function abnInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: "trio",
    hypothesis: "one of two new prompts resolves more conversations",
    unit: "conversation",
    rollout: { mode: "ab", treatmentPercent: 60 },
    variants: {
      control: { deployment: "chat" },
      "treatment-a": { deployment: "chat", systemPrompt: "Cite the policy." },
      "treatment-b": { deployment: "chat", systemPrompt: "Be brief." },
    },
    deployments: { chat: { image: "vllm/vllm-openai:v0.11.0", model: "m" } },
    metrics: {
      primary: [{ name: "resolution_rate", kind: "binary", baseline: 0.6, mde: 0.05 }],
      secondary: [
        { name: "response_tokens", kind: "continuous", direction: "decrease", covariate: "response_tokens" },
        { name: "escalated", kind: "binary", direction: "decrease" },
      ],
      guardrails: [
        { name: "ttft_p95_seconds", relativeMax: 0.1, action: "pause" },
        { name: "response_tokens", relativeMax: 0.1, action: "review" },
      ],
    },
    ...overrides,
  };
}

export function abnSpec(overrides: Record<string, unknown> = {}): ExperimentSpec {
  return parseSpec(abnInput(overrides));
}

/**
 * `units` records of `variant` with exactly `resolved` resolutions and `escalated` escalations
 * (spread over the units by a fixed stride), tokens as unit-data.ts draws them.
 */
export function exactArm(
  variant: string,
  units: number,
  resolved: number,
  escalated: number,
  seed: number,
): UnitRecord[] {
  return generateUnits({ [variant]: { units, resolution: 0, tokens: 200 } }, seed).map((r, i) => ({
    ...r,
    metrics: {
      ...r.metrics,
      resolution_rate: i < resolved ? 1 : 0,
      escalated: (i * 7919) % units < escalated ? 1 : 0,
    },
  }));
}
