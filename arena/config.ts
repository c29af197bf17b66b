import { dirname, resolve } from "node:path";
import { z } from "zod";
import { loadYamlFile } from "../spec/load.ts";
import { between, httpUrl } from "../spec/primitives.ts";
import { level1CheckSchema } from "./dataset.ts";

const modelEndpoint = z.strictObject({
  url: httpUrl.describe("Base URL of an OpenAI-compatible server (without /v1)."),
  model: z.string().min(1).describe("Model name to send."),
});

export const arenaConfigSchema = z.strictObject({
  spec: z.string().min(1).describe("The experiment spec (YAML/JSON), relative to this file."),
  dataset: z.string().min(1).describe("Golden dataset (JSONL), relative to this file."),
  rubric: z.string().min(1).describe("Rubric (YAML), relative to this file."),
  audit: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Human labels (JSONL `{caseId, preferred}`) to measure the judge against. Absent: agreement unknown, the gate fails.",
    ),
  endpoints: z
    .record(z.string(), httpUrl)
    .default(() => ({}))
    .describe("Base URL per spec deployment. Default: the deployment's first `endpoints` entry."),
  judge: modelEndpoint
    .extend({
      temperature: between(0, 2).default(0).describe("Judge sampling temperature. Default 0."),
    })
    .describe("The judge model (rubric scores and pairwise preferences)."),
  embeddings: modelEndpoint
    .optional()
    .describe("Embedding model for Level-2 similarity. Absent: Level 2 skipped."),
  seed: z
    .int()
    .min(0)
    .default(7)
    .describe("Seed sent with every call (deterministic decoding where supported). Default 7."),
  maxTokens: z
    .int()
    .min(1)
    .default(512)
    .describe("max_tokens of candidate answers unless the variant sets it. Default 512."),
  concurrency: z.int().min(1).max(64).default(4).describe("Calls in flight at once. Default 4."),
  retries: z
    .int()
    .min(0)
    .max(10)
    .default(4)
    .describe("Retries of a failed call (connection errors, 429, 5xx). Default 4."),
  timeoutSeconds: between(1, 3600).default(120).describe("Per-call timeout. Default 120."),
  cache: z
    .string()
    .default(".llm-ab/arena-cache")
    .describe("Cache directory, relative to this file. Default .llm-ab/arena-cache."),
  checks: z
    .array(level1CheckSchema)
    .default(() => [])
    .describe("Level-1 checks applied to every case."),
});

export type ArenaConfig = z.output<typeof arenaConfigSchema>;

/** The config with every path made absolute. */
export interface LoadedArenaConfig extends ArenaConfig {
  readonly path: string;
  readonly audit?: string;
}

/** Reads and validates an arena config; every problem in one SpecError naming the file. */
export async function loadArenaConfig(path: string): Promise<LoadedArenaConfig> {
  const config = await loadYamlFile(path, arenaConfigSchema);
  const here = dirname(path);
  return {
    ...config,
    path,
    spec: resolve(here, config.spec),
    dataset: resolve(here, config.dataset),
    rubric: resolve(here, config.rubric),
    cache: resolve(here, config.cache),
    ...(config.audit === undefined ? {} : { audit: resolve(here, config.audit) }),
  };
}
