/**
 * Finds and names every bad row of a data file: the slow, exact path taken only after the fast
 * DuckDB pass has seen that something is wrong. Each problem says file, line and field. Router
 * event logs are judged record by record with the rules of event-log.ts.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { parse } from "csv-parse";
import type { DataFormat } from "./data-format.ts";
import type { DataRequest } from "./data-summary.ts";
import { checkEventRecord, type EventScanState, isEventLog } from "./event-log.ts";

export interface DataProblem {
  file: string;
  line: number;
  field?: string;
  message: string;
}

/** Values beyond this magnitude would overflow sums of squares (1e150² is still finite). */
const MAX_MAGNITUDE = 1e150;

/** Problems beyond this many are counted, not listed. */
const MAX_LISTED = 20;

export class DataError extends Error {
  constructor(
    readonly problems: DataProblem[],
    readonly total: number,
  ) {
    const lines = problems.map((p) => `${p.file}:${p.line}: ${p.field ? `${p.field}: ` : ""}${p.message}`);
    if (total > problems.length) lines.push(`... and ${total - problems.length} more problems`);
    super(lines.join("\n"));
    this.name = "DataError";
  }
}

type Check = (line: number, field: string, message: string) => void;

/** What one scan remembers across lines: unit ids seen, and where allocation was first present / absent. */
interface ScanState {
  seen: Map<string, number>;
  firstWithAllocation?: number;
  firstWithoutAllocation?: number;
}

const newState = (): ScanState => ({ seen: new Map() });

/** Either every record names its allocation phase or none does; a partial column would drop units. */
function reportPartialAllocation(state: ScanState, report: Check) {
  const { firstWithAllocation: withA, firstWithoutAllocation: without } = state;
  if (withA !== undefined && without !== undefined) {
    report(
      without,
      "allocation",
      `missing here but present on line ${withA}: give every record its allocation phase, or none`,
    );
  }
}

function checkRecord(
  rec: Record<string, unknown>,
  req: DataRequest,
  line: number,
  state: ScanState,
  report: Check,
) {
  const seen = state.seen;
  const unit = rec.unit;
  if ((typeof unit !== "string" && typeof unit !== "number") || String(unit) === "") {
    report(line, "unit", `missing or empty unit id (got ${JSON.stringify(unit)})`);
  } else {
    const first = seen.get(String(unit));
    if (first !== undefined)
      report(
        line,
        "unit",
        `unit "${unit}" appears again (first on line ${first}); unit-level data needs one row per unit`,
      );
    else seen.set(String(unit), line);
  }
  if (typeof rec.variant !== "string" || !req.variants.includes(rec.variant)) {
    report(
      line,
      "variant",
      `unknown variant ${JSON.stringify(rec.variant)} (known: ${req.variants.join(", ")})`,
    );
  }
  const allocation = rec.allocation;
  if (allocation === undefined || allocation === null || allocation === "")
    state.firstWithoutAllocation ??= line;
  else {
    state.firstWithAllocation ??= line;
    const a = Number(allocation);
    if (typeof allocation === "boolean" || !Number.isFinite(a) || a < 0 || a > 100) {
      report(
        line,
        "allocation",
        `must be the treatment percent (0..100) in force at first assignment, got ${JSON.stringify(allocation)}`,
      );
    }
  }
  for (const f of req.fields) {
    const path = `${f.kind === "metric" ? "metrics" : "pre"}.${f.name}`;
    const value =
      rec[path] !== undefined
        ? rec[path]
        : (rec[f.kind === "metric" ? "metrics" : "pre"] as Record<string, unknown> | undefined)?.[f.name];
    if (value === undefined || value === null || value === "") continue;
    const n = typeof value === "boolean" ? Number(value) : typeof value === "number" ? value : Number(value);
    if (!Number.isFinite(n)) report(line, path, `not a finite number: ${JSON.stringify(value)}`);
    // Squares of larger values overflow the variance accumulators.
    else if (Math.abs(n) > MAX_MAGNITUDE)
      report(line, path, `${n} is too large to analyze (|value| must be at most 1e150)`);
    else if (f.kind === "metric" && req.binary.includes(f.name) && n !== 0 && n !== 1) {
      report(line, path, `binary metric must be 0 or 1 (or true/false), got ${JSON.stringify(value)}`);
    }
  }
}

/** Each JSON object of a JSONL file with its line number; other lines are reported as problems. */
async function forEachJsonObject(
  path: string,
  expected: string,
  report: Check,
  visit: (rec: Record<string, unknown>, line: number) => void,
) {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  for await (const text of lines) {
    n++;
    if (text.trim() === "") continue;
    let rec: unknown;
    try {
      rec = JSON.parse(text);
    } catch (error) {
      report(n, "", `not valid JSON (${(error as Error).message})`);
      continue;
    }
    if (typeof rec !== "object" || rec === null || Array.isArray(rec)) {
      report(n, "", `expected a JSON object ${expected}`);
      continue;
    }
    visit(rec as Record<string, unknown>, n);
  }
}

async function scanJsonl(path: string, req: DataRequest, report: Check) {
  const state = newState();
  await forEachJsonObject(path, "{unit, variant, metrics, segments, pre}", report, (rec, n) => {
    for (const key of ["metrics", "segments", "pre"] as const) {
      const v = rec[key];
      if (v !== undefined && v !== null && (typeof v !== "object" || Array.isArray(v))) {
        report(n, key, `expected an object of name → value, got ${JSON.stringify(v)}`);
      }
    }
    checkRecord(rec, req, n, state, report);
  });
  reportPartialAllocation(state, report);
}

async function scanEventLog(path: string, req: DataRequest, report: Check) {
  const state: EventScanState = {};
  await forEachJsonObject(
    path,
    "{type, t, experiment, unit, ...} (a router event record)",
    report,
    (rec, n) => checkEventRecord(rec, req, n, state, report),
  );
}

async function scanCsv(path: string, req: DataRequest, report: Check) {
  const state = newState();
  const parser = createReadStream(path).pipe(
    parse({ columns: true, info: true, skip_empty_lines: true, relax_column_count: true, trim: true }),
  );
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string>;
      info: { lines: number; invalid_field_length: number };
    }>) {
      const flat: Record<string, unknown> = { ...record };
      for (const f of req.fields)
        flat[`${f.kind === "metric" ? "metrics" : "pre"}.${f.name}`] =
          record[f.kind === "metric" ? f.name : `pre.${f.name}`];
      checkRecord(flat, req, info.lines, state, report);
    }
    reportPartialAllocation(state, report);
  } catch (error) {
    const e = error as Error & { lines?: number };
    report(e.lines ?? 0, "", `malformed CSV (${e.message})`);
  }
}

/**
 * Re-reads the file and returns a `DataError` listing its problems. `cause` is the engine's error,
 * used as the message when the scan finds nothing more precise.
 */
export async function locateDataErrors(
  path: string,
  format: DataFormat,
  req: DataRequest,
  cause?: unknown,
): Promise<DataError> {
  const problems: DataProblem[] = [];
  let total = 0;
  const report: Check = (line, field, message) => {
    total++;
    if (problems.length < MAX_LISTED)
      problems.push({ file: path, line, ...(field ? { field } : {}), message });
  };
  try {
    if (format === "csv") await scanCsv(path, req, report);
    else if (format === "events" || (await isEventLog(path))) await scanEventLog(path, req, report);
    else await scanJsonl(path, req, report);
  } catch (error) {
    report(0, "", `cannot read the file (${(error as Error).message})`);
  }
  if (total === 0) {
    const detail = cause instanceof Error ? cause.message.split("\n")[0] : "rows the engine rejected";
    report(0, "", `could not be read: ${detail}`);
  }
  return new DataError(problems, total);
}
