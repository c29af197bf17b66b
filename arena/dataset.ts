/**
 * Golden datasets: JSONL files of hard cases, one case per line. Loading reports every problem in
 * the file at once, each as `file:line: field: message`, so one run shows all there is to fix; the
 * dataset hash identifies what was judged in `gate.json`, independent of how the file is formatted.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { canonicalJson } from "../spec/canonical-json.ts";
import { closestName } from "../spec/closest-name.ts";
import { formatPath } from "../spec/errors.ts";
import { describeValue, listOptions, specIssueMessage } from "../spec/issue-messages.ts";
import { patterned } from "../spec/primitives.ts";
import { jsonSchemaProblems } from "./level1.ts";
import type { GoldenCase } from "./types.ts";

/** One thing wrong with a dataset file. */
export interface DatasetProblem {
  /** 1-based line in the file; undefined when the problem concerns the whole file. */
  readonly line: number | undefined;
  /** Dotted field path inside the line's case (`checks[1].pattern`); empty for the whole line. */
  readonly path: string;
  readonly message: string;
}

/** `file:line: field: message`, leaving out the parts a problem does not have. */
export function formatDatasetProblem(problem: DatasetProblem, source: string): string {
  const where = problem.line === undefined ? source : `${source}:${problem.line}`;
  return problem.path === ""
    ? `${where}: ${problem.message}`
    : `${where}: ${problem.path}: ${problem.message}`;
}

/** Problems shown in the error's message; `problems` always holds all of them. */
const MAX_LISTED = 100;

/** A dataset that cannot be used, with every problem found in it. */
export class DatasetError extends Error {
  readonly problems: readonly DatasetProblem[];
  readonly source: string;

  constructor(problems: readonly DatasetProblem[], source: string) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    const lines = problems
      .slice(0, MAX_LISTED)
      .map((problem) => `  ${formatDatasetProblem(problem, source)}`);
    if (problems.length > MAX_LISTED) lines.push(`  … and ${problems.length - MAX_LISTED} more`);
    super([`${source}: ${count}`, ...lines].join("\n"));
    this.name = "DatasetError";
    this.problems = problems;
    this.source = source;
  }
}

/** Text that says something; kept as written (answers are compared with it), only blank text is refused. */
const nonBlank = z.string().refine((value) => value.trim() !== "", { error: "must not be empty" });

/** Why `pattern`/`flags` do not compile, or undefined when they do. */
function regexProblem(
  pattern: string,
  flags: string | undefined,
): { field: string; message: string } | undefined {
  try {
    new RegExp("", flags);
  } catch {
    return {
      field: "flags",
      message: `must be distinct regular-expression flags (d g i m s u v y), got ${describeValue(flags)}`,
    };
  }
  try {
    new RegExp(pattern, flags);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { field: "pattern", message: `is not a valid regular expression: ${reason}` };
  }
  return undefined;
}

const caseSensitive = z.boolean().optional();

/** One Level-1 check as a dataset (or the arena config) writes it; regexes and schemas are compiled here. */
export const level1CheckSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("contains"), text: nonBlank, caseSensitive }),
  z.strictObject({ kind: z.literal("notContains"), text: nonBlank, caseSensitive }),
  z
    .strictObject({
      kind: z.literal("regex"),
      pattern: z.string().min(1),
      flags: z.string().optional(),
    })
    .superRefine((check, ctx) => {
      const problem = regexProblem(check.pattern, check.flags);
      if (problem) ctx.addIssue({ code: "custom", path: [problem.field], message: problem.message });
    }),
  z.strictObject({ kind: z.literal("minLength"), chars: z.int().min(0) }),
  z.strictObject({ kind: z.literal("maxLength"), chars: z.int().min(1) }),
  z
    .strictObject({ kind: z.literal("jsonSchema"), schema: z.record(z.string(), z.unknown()) })
    .superRefine((check, ctx) => {
      for (const problem of jsonSchemaProblems(check.schema, ["schema"]))
        ctx.addIssue({ code: "custom", path: [...problem.path], message: problem.message });
    }),
]);

const CHECK_KINDS = ["contains", "notContains", "regex", "minLength", "maxLength", "jsonSchema"];

export const chatMessageSchema = z.strictObject({
  role: z.enum(["system", "user", "assistant"]),
  content: nonBlank,
});

/** One line of a golden dataset, with `tags` and `checks` defaulting to empty lists. */
export const goldenCaseSchema = z
  .strictObject({
    id: patterned(
      /^[A-Za-z0-9][\w.:-]{0,99}$/,
      "1–100 letters, digits, dots, dashes, underscores or colons, starting with a letter or digit",
    ),
    messages: z.array(chatMessageSchema).min(1),
    context: nonBlank.optional(),
    reference: nonBlank.optional(),
    // Lowercase on purpose: a tag spelled `Critical` would silently not count as `critical`.
    tags: z
      .array(patterned(/^[a-z0-9][a-z0-9_-]*$/, "lowercase letters, digits, dashes or underscores"))
      .default([]),
    checks: z.array(level1CheckSchema).default([]),
  })
  .superRefine((item, ctx) => {
    const last = item.messages.at(-1);
    if (last !== undefined && last.role !== "user")
      ctx.addIssue({
        code: "custom",
        path: ["messages"],
        message: `must end with a user turn (the answer is the reply to it), but the last message is from "${last.role}"`,
      });
  });

/** Dataset wording for the issues the spec's error map does not phrase well (the check `kind`). */
function datasetIssueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === "invalid_union" && "discriminator" in issue && issue.discriminator === "kind") {
    // zod hands the whole check to the map; the kind is what was wrong.
    const input = issue.input;
    const kind = input !== null && typeof input === "object" ? (input as { kind?: unknown }).kind : input;
    if (kind === undefined) return `is required (one of ${listOptions(CHECK_KINDS)})`;
    const guess = typeof kind === "string" ? closestName(kind, CHECK_KINDS) : undefined;
    const hint = guess === undefined ? "" : `; did you mean "${guess}"?`;
    return `must be one of ${listOptions(CHECK_KINDS)}, got ${describeValue(kind)}${hint}`;
  }
  return specIssueMessage(issue);
}

/** Line and column (1-based) of a JSON syntax error in `text`, the text of one line. */
function jsonErrorColumn(text: string, message: string): number {
  const lineColumn = /line \d+ column (\d+)/.exec(message);
  if (lineColumn) return Number(lineColumn[1]);
  const position = /at position (\d+)/.exec(message);
  if (position) return Number(position[1]) + 1;
  // Some V8 messages ("Unexpected token") carry no position: find the shortest prefix that is
  // already wrong (every shorter prefix merely ends early), so its last character is the culprit.
  const viable = (length: number): boolean => {
    try {
      JSON.parse(text.slice(0, length));
      return true;
    } catch (error) {
      const reason = error instanceof Error ? error.message : "";
      const at = /at position (\d+)/.exec(reason);
      return /end of JSON input/.test(reason) || (at !== null && Number(at[1]) >= length);
    }
  };
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.floor((low + high + 1) / 2);
    if (viable(middle)) low = middle;
    else high = middle - 1;
  }
  return Math.min(low + 1, text.length);
}

/** A JSONL line that is not JSON, as a problem naming its column and the parser's reason. */
function jsonProblem(text: string, line: number, error: unknown): DatasetProblem {
  const message = error instanceof Error ? error.message : String(error);
  const reason = message
    .replace(/\s+/g, " ")
    .replace(/, (?:\.\.\.)?".*" is not valid JSON$/, "")
    .replace(/ in JSON at position \d+.*$/, "")
    .replace(/ \(line \d+ column \d+\)$/, "");
  const column = jsonErrorColumn(text, message);
  return { line, path: "", message: `invalid JSON at column ${column}: ${reason}` };
}

function rawId(value: unknown): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const { id } = value as { id?: unknown };
  return typeof id === "string" ? id : undefined;
}

/**
 * Visits the JSON value of every non-blank line of JSONL `text` (a leading byte-order mark
 * dropped) with its 1-based line number; a line that is not JSON becomes a problem instead.
 * Shared by the golden dataset and the audit labels, which read JSONL the same way.
 */
export function forEachJsonLine(
  text: string,
  problems: DatasetProblem[],
  visit: (value: unknown, line: number) => void,
): void {
  text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .forEach((raw, index) => {
      const line = index + 1;
      if (raw.trim() === "") return;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (error) {
        problems.push(jsonProblem(raw, line, error));
        return;
      }
      visit(value, line);
    });
}

/** sha256 (hex) of the cases' canonical JSON: the same cases hash alike however the file is formatted. */
export function datasetHash(cases: readonly GoldenCase[]): string {
  return createHash("sha256").update(canonicalJson(cases)).digest("hex");
}

/**
 * The cases in JSONL `text` (blank lines allowed) and their hash; throws a DatasetError listing
 * every problem, each named `source:line: field: message`.
 */
export function parseDataset(text: string, source: string): { cases: GoldenCase[]; hash: string } {
  const problems: DatasetProblem[] = [];
  const cases: GoldenCase[] = [];
  const firstLineOf = new Map<string, number>();
  forEachJsonLine(text, problems, (value, line) => {
    // Duplicates are found from the raw id, so a repeated id is reported even on an otherwise bad line.
    const id = rawId(value);
    const first = id === undefined ? undefined : firstLineOf.get(id);
    if (id !== undefined && first !== undefined)
      problems.push({ line, path: "id", message: `duplicate id "${id}" (first used on line ${first})` });
    else if (id !== undefined) firstLineOf.set(id, line);
    const result = goldenCaseSchema.safeParse(value, { error: datasetIssueMessage });
    if (!result.success) {
      for (const issue of result.error.issues)
        problems.push({ line, path: formatPath(issue.path), message: issue.message });
      return;
    }
    const parsed: GoldenCase = result.data;
    cases.push(parsed);
  });
  if (problems.length === 0 && cases.length === 0)
    problems.push({
      line: undefined,
      path: "",
      message: "the file holds no cases (expected one JSON object per line)",
    });
  if (problems.length > 0) throw new DatasetError(problems, source);
  return { cases, hash: datasetHash(cases) };
}

/** Reads and validates a JSONL golden dataset; a missing file and every bad line surface as a DatasetError. */
export async function loadDataset(path: string): Promise<{ cases: GoldenCase[]; hash: string }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === "ENOENT" ? "file not found" : `cannot read the file (${code ?? String(error)})`;
    throw new DatasetError([{ line: undefined, path: "", message }], path);
  }
  return parseDataset(text, path);
}
