/**
 * Rubrics: the axes a judge scores 1–5, each with anchors saying what a 1, a 3 and a 5 look like.
 * Anchors are what make two judges (or two runs of one) score alike, so 1, 3 and 5 are required.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { canonicalJson } from "../spec/canonical-json.ts";
import { formatPath, formatProblem, type SpecProblem } from "../spec/errors.ts";
import { specIssueMessage } from "../spec/issue-messages.ts";
import { readYaml } from "../spec/load.ts";
import { patterned } from "../spec/primitives.ts";
import type { Rubric } from "./types.ts";

/** A rubric that cannot be used; each problem names its field (`axes[1].anchors.3`). */
export class RubricError extends Error {
  readonly problems: readonly SpecProblem[];
  readonly source: string;

  constructor(problems: readonly SpecProblem[], source: string) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    const lines = problems.map((problem) => `  ${formatProblem(problem)}`);
    super([`${source}: ${count}`, ...lines].join("\n"));
    this.name = "RubricError";
    this.problems = problems;
    this.source = source;
  }
}

const nonBlank = z.string().refine((value) => value.trim() !== "", { error: "must not be empty" });

const axisSchema = z.strictObject({
  // Axis names become keys of judge output and report columns, hence snake_case.
  name: patterned(/^[a-z][a-z0-9_]{0,63}$/, "a lowercase snake_case name, e.g. policy_citation"),
  description: nonBlank,
  anchors: z
    .strictObject({
      "1": nonBlank,
      "2": nonBlank.optional(),
      "3": nonBlank,
      "4": nonBlank.optional(),
      "5": nonBlank,
    })
    // Every score key present (2 and 4 possibly undefined), as RubricAxis declares them.
    .transform((anchors) => ({
      "1": anchors["1"],
      "2": anchors["2"],
      "3": anchors["3"],
      "4": anchors["4"],
      "5": anchors["5"],
    })),
});

export const rubricSchema = z
  .strictObject({
    name: nonBlank,
    instructions: nonBlank.optional(),
    axes: z.array(axisSchema).min(1),
  })
  .superRefine((rubric, ctx) => {
    const seen = new Map<string, number>();
    rubric.axes.forEach((axis, index) => {
      const first = seen.get(axis.name);
      if (first === undefined) seen.set(axis.name, index);
      else
        ctx.addIssue({
          code: "custom",
          path: ["axes", index, "name"],
          message: `duplicate axis "${axis.name}" (also axes[${first}])`,
        });
    });
  });

/** The rubric in `value` (a parsed YAML document); throws a RubricError naming `source` and each field. */
export function parseRubric(value: unknown, source: string): Rubric {
  if (value === null || value === undefined)
    throw new RubricError([{ path: "", message: "the file is empty: expected a rubric mapping" }], source);
  const result = rubricSchema.safeParse(value, { error: specIssueMessage });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => ({
      path: formatPath(issue.path),
      // Scores are not names: "did you mean 1?" for a 6 would mislead, so say what the keys are.
      message:
        issue.code === "unrecognized_keys" && issue.path.at(-1) === "anchors"
          ? `unknown score ${issue.keys.map((key) => `"${key}"`).join(", ")}: anchors are keyed by the scores 1 to 5`
          : issue.message,
    }));
    throw new RubricError(problems, source);
  }
  const rubric: Rubric = result.data;
  return rubric;
}

/** Reads and validates a YAML rubric file; syntax errors carry line and column. */
export async function loadRubric(path: string): Promise<Rubric> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === "ENOENT" ? "file not found" : `cannot read the file (${code ?? String(error)})`;
    throw new RubricError([{ path: "", message }], path);
  }
  const { value, problems } = readYaml(text);
  if (problems.length > 0) throw new RubricError(problems, path);
  return parseRubric(value, path);
}

/** sha256 (hex) of the rubric's canonical JSON: a changed anchor is a different rubric, reordered keys are not. */
export function rubricHash(rubric: Rubric): string {
  return createHash("sha256").update(canonicalJson(rubric)).digest("hex");
}
