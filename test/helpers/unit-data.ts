/** Seeded unit-level data files for analysis tests: JSONL or CSV, with known true effects. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import uniformFactory from "@stdlib/random-base-uniform";
import { parseSpec } from "../../spec/load.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";

export interface UnitRecord {
  unit: string;
  variant: string;
  metrics: Record<string, number | boolean | string | null>;
  segments?: Record<string, string>;
  pre?: Record<string, number>;
}

export interface ArmScenario {
  units: number;
  resolution: number;
  /** Mean tokens; tokens = pre + N-ish noise so CUPED has something to remove. */
  tokens: number;
  region?: (i: number) => string;
}

export function seededUniform(seed: number): () => number {
  return uniformFactory.factory(0, 1, { seed });
}

/** Records for a two-arm experiment; deterministic for a seed. */
export function generateUnits(arms: Record<string, ArmScenario>, seed = 7): UnitRecord[] {
  const u = seededUniform(seed);
  const out: UnitRecord[] = [];
  for (const [variant, a] of Object.entries(arms)) {
    for (let i = 0; i < a.units; i++) {
      const pre = 100 + 200 * u();
      const tokens = pre + (a.tokens - 200) + 40 * (u() + u() + u() - 1.5);
      out.push({
        unit: `${variant}-${i}`,
        variant,
        metrics: {
          resolution_rate: u() < a.resolution ? 1 : 0,
          response_tokens: Math.round(tokens * 10) / 10,
        },
        segments: { region: a.region ? a.region(i) : ["eu", "us", "apac"][i % 3]! },
        pre: { response_tokens: Math.round(pre * 10) / 10 },
      });
    }
  }
  return out;
}

export function tempDir(prefix = "llm-ab-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeJsonl(dir: string, name: string, records: readonly unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${records.map((r) => JSON.stringify(r)).join("\n")}\n`);
  return path;
}

export function writeCsv(dir: string, name: string, records: readonly UnitRecord[]): string {
  const path = join(dir, name);
  const header = "unit,variant,resolution_rate,response_tokens,segment.region,pre.response_tokens";
  const rows = records.map((r) =>
    [
      r.unit,
      r.variant,
      r.metrics.resolution_rate,
      r.metrics.response_tokens,
      r.segments?.region ?? "",
      r.pre?.response_tokens ?? "",
    ].join(","),
  );
  writeFileSync(path, `${[header, ...rows].join("\n")}\n`);
  return path;
}

/** A 50/50 prompt duel sized at 1,471 units per arm (0.60 → 0.65), fixed horizon. */
export function duelSpec(overrides: Record<string, unknown> = {}): ExperimentSpec {
  return parseSpec({
    name: "duel",
    hypothesis: "the new prompt resolves more conversations",
    unit: "conversation",
    rollout: { mode: "ab", treatmentPercent: 50 },
    variants: {
      control: { deployment: "chat" },
      treatment: { deployment: "chat", systemPrompt: "Cite the policy." },
    },
    deployments: { chat: { image: "vllm/vllm-openai:v0.11.0", model: "m" } },
    metrics: {
      primary: [{ name: "resolution_rate", kind: "binary", baseline: 0.6, mde: 0.05 }],
      secondary: [
        { name: "response_tokens", kind: "continuous", direction: "decrease", covariate: "response_tokens" },
      ],
      guardrails: [
        { name: "ttft_p95_seconds", relativeMax: 0.1, action: "pause" },
        { name: "response_tokens", relativeMax: 0.1, action: "review" },
      ],
    },
    ...overrides,
  });
}
