/**
 * Getting a spec in: from a plain value (Pulumi config, a test), or from a YAML or JSON file.
 * Every way in reports all problems at once, as `SpecProblem`s with field paths.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { canonicalJson } from "./canonical-json.ts";
import { formatPath, SpecError, type SpecProblem } from "./errors.ts";
import { specIssueMessage } from "./issue-messages.ts";
import { type ExperimentSpec, experimentSpecSchema } from "./schema.ts";

/** The outcome of validating a value as a spec. */
export type SpecResult =
  | { readonly ok: true; readonly spec: ExperimentSpec }
  | { readonly ok: false; readonly problems: readonly SpecProblem[] };

/** Validates `value` as a spec, collecting every problem instead of stopping at the first. */
export function safeParseSpec(value: unknown): SpecResult {
  const result = experimentSpecSchema.safeParse(value, { error: specIssueMessage });
  if (result.success) return { ok: true, spec: result.data };
  const problems = result.error.issues.map((issue) => ({
    path: formatPath(issue.path),
    message: issue.message,
  }));
  return { ok: false, problems };
}

/**
 * The spec in `value` with every default applied; throws a SpecError listing all problems.
 * `source` names where the value came from (a file, "Pulumi config") in the error.
 */
export function parseSpec(value: unknown, source?: string): ExperimentSpec {
  const result = safeParseSpec(value);
  if (!result.ok) throw new SpecError(result.problems, source);
  return result.spec;
}

/** Formats understood by `loadSpecFile`, by file extension. */
const FORMATS: Readonly<Record<string, "yaml" | "json">> = {
  ".yaml": "yaml",
  ".yml": "yaml",
  ".json": "json",
};

function syntaxProblem(format: string, message: string, line?: number, column?: number): SpecProblem {
  const where = line === undefined ? "" : ` at line ${line}, column ${column ?? 1}`;
  return { path: "", message: `${format} syntax error${where}: ${message}` };
}

/** The document in YAML text; syntax errors become problems naming line and column. */
export function readYaml(text: string): { value: unknown; problems: SpecProblem[] } {
  const lineCounter = new LineCounter();
  // `uniqueKeys` (on by default) makes a key written twice an error instead of a silent overwrite.
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const problems = document.errors.map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return syntaxProblem("YAML", error.message.split("\n")[0] ?? error.message, line, col);
  });
  if (problems.length > 0) return { value: undefined, problems };
  // A bounded alias count stops a "billion laughs" document from expanding without end.
  return { value: document.toJS({ maxAliasCount: 100 }), problems };
}

/** Line and column (1-based) of a character offset. */
function lineAndColumn(text: string, offset: number): [number, number] {
  const before = text.slice(0, offset).split("\n");
  return [before.length, (before.at(-1)?.length ?? 0) + 1];
}

/** The value in JSON text; a syntax error becomes a problem, with its position when Node reports one. */
function readJson(text: string): { value: unknown; problems: SpecProblem[] } {
  try {
    return { value: JSON.parse(text), problems: [] };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // Node ≥ 22 says "(line L column C)", older versions "at position N", some versions neither.
    const lineColumn = /line (\d+) column (\d+)/.exec(message);
    const position = /at position (\d+)/.exec(message);
    // The message may quote the text around the error, newlines included; keep the problem on one line.
    const reason = message
      .replace(/\s+/g, " ")
      .replace(/ in JSON at position \d+.*$/s, "")
      .replace(/ \(line \d+ column \d+\)$/, "");
    if (lineColumn)
      return {
        value: undefined,
        problems: [syntaxProblem("JSON", reason, Number(lineColumn[1]), Number(lineColumn[2]))],
      };
    if (position) {
      const [line, column] = lineAndColumn(text, Number(position[1]));
      return { value: undefined, problems: [syntaxProblem("JSON", reason, line, column)] };
    }
    return { value: undefined, problems: [syntaxProblem("JSON", reason)] };
  }
}

/**
 * Reads and validates a spec file: YAML for `.yaml`/`.yml`, JSON for `.json`. A missing file, a
 * syntax error (with line and column) and every schema problem all surface as a SpecError.
 */
export async function loadSpecFile(path: string): Promise<ExperimentSpec> {
  const format = FORMATS[extname(path).toLowerCase()];
  if (format === undefined) {
    throw new SpecError(
      [{ path: "", message: "unsupported file extension: use .yaml, .yml or .json" }],
      path,
    );
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message =
      code === "ENOENT"
        ? "file not found"
        : `cannot read the file (${code ?? (error instanceof Error ? error.message : String(error))})`;
    throw new SpecError([{ path: "", message }], path);
  }
  const { value, problems } = format === "yaml" ? readYaml(text) : readJson(text);
  if (problems.length > 0) throw new SpecError(problems, path);
  if (value === null || value === undefined) {
    throw new SpecError(
      [{ path: "", message: "the file is empty: expected an experiment spec mapping" }],
      path,
    );
  }
  return parseSpec(value, path);
}

/**
 * Reads a YAML file other than a spec (a demo scenario, an arena config) and validates it with
 * `schema`: a missing file, syntax errors (line and column) and every schema problem (field path)
 * surface as one SpecError naming the file.
 */
export async function loadYamlFile<T>(path: string, schema: z.ZodType<T>): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === "ENOENT" ? "file not found" : `cannot read it (${code ?? String(error)})`;
    throw new SpecError([{ path: "", message }], path);
  }
  const { value, problems } = readYaml(text);
  if (problems.length > 0) throw new SpecError(problems, path);
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      path: formatPath(issue.path),
      message: issue.message,
    }));
    throw new SpecError(issues, path);
  }
  return parsed.data;
}

/**
 * sha256 (hex) of the parsed spec's canonical JSON: keys sorted, defaults applied. Two files that
 * mean the same experiment hash alike however their keys are ordered or which defaults they spell
 * out; the offline gate and the Pulumi stack key their records on it.
 */
export function specHash(spec: ExperimentSpec): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex");
}
