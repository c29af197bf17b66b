/**
 * `gate.json`: what an arena run decided, for whom, and on what. It names the spec by its hash
 * (spec/load.ts `specHash`), so a gate passed by one version of an experiment never lets another
 * version go live; the dataset, rubric and judge are recorded beside it so the decision can be
 * reproduced or audited.
 *
 * `exposureBlock` is the check `pulumi up` runs (stacks/program.ts): a spec that requires a gate
 * and exposes users to a treatment (any rollout mode but shadow) needs a passing gate file for
 * exactly this spec.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { specHash } from "../spec/load.ts";
import type { ExperimentSpec } from "../spec/schema.ts";

export const GATE_FILE_VERSION = 1;

const judgeSchema = z.strictObject({
  endpoint: z.string(),
  model: z.string(),
  temperature: z.number(),
  seed: z.number(),
  promptVersion: z.string(),
});

const checkSchema = z.strictObject({
  name: z.string(),
  passed: z.boolean(),
  value: z.string(),
  threshold: z.string(),
  detail: z.string(),
});

export const gateFileSchema = z.object({
  version: z.literal(GATE_FILE_VERSION),
  experiment: z.string(),
  specHash: z.string().regex(/^[0-9a-f]{64}$/),
  datasetHash: z.string().regex(/^[0-9a-f]{64}$/),
  rubricHash: z.string().regex(/^[0-9a-f]{64}$/),
  judge: judgeSchema,
  createdAt: z.string(),
  passed: z.boolean(),
  checks: z.array(checkSchema),
  /** The full results (statistics per check); free-form for readers, not for the deploy. */
  results: z.record(z.string(), z.unknown()),
});

export type GateFile = z.output<typeof gateFileSchema>;
export type GateCheck = z.output<typeof checkSchema>;

/** Reads and validates a gate file; throws an Error naming the file and the field. */
export async function readGateFile(path: string): Promise<GateFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(`${path}: cannot read the gate file (${code})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const parsed = gateFileSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join(".") || "(file)"}: ${issue.message}`,
    );
    throw new Error(`${path}: not an llm-ab gate file: ${problems.join("; ")}`);
  }
  return parsed.data;
}

/**
 * Why live exposure must be refused, or undefined when it may go ahead: the spec does not
 * require a gate, or only shadows the treatment, or `gate` passed for this very spec.
 */
export function exposureBlock(
  spec: ExperimentSpec,
  gate: GateFile | undefined,
  gatePath?: string,
): string | undefined {
  if (!spec.gate.required || spec.rollout.mode === "shadow") return undefined;
  const how = "run `llm-ab arena run` on the spec and pass its gate.json as the stack config llm-ab:gateFile";
  const exposure = `rollout.mode ${spec.rollout.mode} exposes users to the treatment`;
  if (gate === undefined) {
    return `spec.gate.required is true and ${exposure}, but no offline gate result was supplied: ${how} (or set rollout.mode: shadow until it passes)`;
  }
  const where = gatePath ?? "the gate file";
  const hash = specHash(spec);
  if (gate.specHash !== hash) {
    return `${where} was made for another version of the spec (spec hash ${gate.specHash.slice(0, 12)}…, this spec ${hash.slice(0, 12)}…): ${how}`;
  }
  if (!gate.passed) {
    const failed = gate.checks
      .filter((check) => !check.passed)
      .map((check) => `${check.name} (${check.value}, needs ${check.threshold})`);
    return `${where}: the offline gate failed for this spec: ${failed.join("; ")}; ${exposure}, so it is refused until a gate passes (or set rollout.mode: shadow)`;
  }
  return undefined;
}
