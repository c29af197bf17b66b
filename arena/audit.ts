/**
 * The audit file: people's verdicts on some golden cases (JSONL `{ "caseId", "preferred":
 * "treatment" | "control" | "tie" }`), against which the pairwise judge's agreement is measured.
 * Every problem is reported at once, as `file:line: field: message`, like the dataset's.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { closestName } from "../spec/closest-name.ts";
import { formatPath } from "../spec/errors.ts";
import { DatasetError, type DatasetProblem, forEachJsonLine } from "./dataset.ts";
import type { AuditLabel } from "./types.ts";

const auditLineSchema = z.strictObject({
  caseId: z.string().min(1),
  preferred: z.enum(["treatment", "control", "tie"], {
    error: 'must be "treatment", "control" or "tie"',
  }),
});

/** The labels in JSONL `text`, checked against the dataset's case ids; throws a DatasetError. */
export function parseAudit(text: string, source: string, caseIds: readonly string[]): AuditLabel[] {
  const known = new Set(caseIds);
  const problems: DatasetProblem[] = [];
  const labels: AuditLabel[] = [];
  const firstLine = new Map<string, number>();
  forEachJsonLine(text, problems, (value, line) => {
    const parsed = auditLineSchema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push({ line, path: formatPath(issue.path), message: issue.message });
      return;
    }
    const { caseId } = parsed.data;
    if (!known.has(caseId)) {
      const near = closestName(caseId, caseIds);
      problems.push({
        line,
        path: "caseId",
        message: `no case "${caseId}" in the dataset${near === undefined ? "" : ` (did you mean "${near}"?)`}`,
      });
      return;
    }
    const first = firstLine.get(caseId);
    if (first !== undefined) {
      problems.push({
        line,
        path: "caseId",
        message: `"${caseId}" is labelled twice (first on line ${first})`,
      });
      return;
    }
    firstLine.set(caseId, line);
    labels.push(parsed.data);
  });
  if (problems.length === 0 && labels.length === 0) {
    problems.push({ line: undefined, path: "", message: "the file holds no labels" });
  }
  if (problems.length > 0) throw new DatasetError(problems, source);
  return labels;
}

/** Reads an audit file; a missing file and every bad line surface as a DatasetError. */
export async function loadAudit(path: string, caseIds: readonly string[]): Promise<AuditLabel[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new DatasetError(
      [
        {
          line: undefined,
          path: "",
          message: code === "ENOENT" ? "file not found" : `cannot read it (${code})`,
        },
      ],
      path,
    );
  }
  return parseAudit(text, path, caseIds);
}
