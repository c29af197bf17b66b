/**
 * How DuckDB reads each data format: the table function, the expression of every field, and the
 * segment dimensions a file holds. A router event log becomes a unit-level view (event-log.ts).
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { type DataFormat, readCsvHeader } from "./data-format.ts";
import type { DataRequest, FieldRef } from "./data-summary.ts";
import { eventLogSource, isEventLog } from "./event-log.ts";
import { DataError } from "./locate-errors.ts";
import { ident, sqlString } from "./sql.ts";

export interface Source {
  /** Table function reading every column the request needs. */
  from: string;
  /** Table function reading only the unit column (for the duplicate check). */
  unitsOnly: string;
  field: (f: FieldRef) => string;
  allocation: string;
  segment: (dimension: string) => string;
  dimensions: string[];
  /**
   * JSONL only: a predicate true for records whose segments may hold a dimension outside
   * `dimensions` (found by sampling), so a dimension that first appears late is never missed.
   */
  unknownDimension?: string;
}

/** Records sampled from the head of a JSONL file to learn its segment dimensions. */
const DIMENSION_SAMPLE = 10_000;

/** Segment dimension names seen in the first records of a JSONL file; bad lines are skipped here. */
async function sampleJsonDimensions(path: string, limit = DIMENSION_SAMPLE): Promise<string[]> {
  const seen = new Set<string>();
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  try {
    for await (const line of lines) {
      if (++n > limit) break;
      try {
        const segments = (JSON.parse(line) as { segments?: unknown }).segments;
        if (segments && typeof segments === "object" && !Array.isArray(segments)) {
          for (const key of Object.keys(segments)) seen.add(key);
        }
      } catch {
        // A malformed line is reported by the exact scan later; sampling only looks for names.
      }
    }
  } finally {
    lines.close();
  }
  return [...seen].sort();
}

export async function jsonSource(path: string, req: DataRequest, known?: string[]): Promise<Source> {
  const dimensions = known ?? (await sampleJsonDimensions(path));
  const struct = (kind: FieldRef["kind"]) =>
    `STRUCT(${req.fields
      .filter((f) => f.kind === kind)
      .map((f) => `${ident(f.name)} DOUBLE`)
      .join(", ")})`;
  const hasPre = req.fields.some((f) => f.kind === "pre");
  const columns = [
    "unit: 'VARCHAR'",
    "variant: 'VARCHAR'",
    "allocation: 'DOUBLE'",
    `metrics: ${sqlString(struct("metric"))}`,
    "segments: 'MAP(VARCHAR, VARCHAR)'",
    ...(hasPre ? [`pre: ${sqlString(struct("pre"))}`] : []),
  ];
  const read = (cols: string[]) =>
    `read_json(${sqlString(path)}, format = 'newline_delimited', columns = {${cols.join(", ")}})`;
  // Counting keys is far cheaper per row than building and comparing key lists.
  const knownPresent =
    dimensions.map((d) => `(segments[${sqlString(d)}] IS NOT NULL)::INTEGER`).join(" + ") || "0";
  return {
    from: read(columns),
    unitsOnly: read(["unit: 'VARCHAR'"]),
    field: (f) => `${f.kind === "metric" ? "metrics" : "pre"}.${ident(f.name)}`,
    allocation: "allocation",
    segment: (d) => `segments[${sqlString(d)}]`,
    dimensions,
    unknownDimension: `coalesce(cardinality(segments), 0) > ${knownPresent}`,
  };
}

export async function csvSource(path: string, req: DataRequest): Promise<Source> {
  const header = await readCsvHeader(path);
  const absent = ["unit", "variant"].filter((c) => !header.includes(c));
  if (absent.length > 0) {
    throw new DataError(
      [
        {
          file: path,
          line: 1,
          message: `the header has no ${absent.join(" or ")} column (header: ${header.join(",")})`,
        },
      ],
      1,
    );
  }
  const columnOf = (f: FieldRef) => (f.kind === "metric" ? f.name : `pre.${f.name}`);
  const segmentColumns = header.filter((c) => c.startsWith("segment."));
  const types = [
    "'unit': 'VARCHAR'",
    "'variant': 'VARCHAR'",
    ...segmentColumns.map((c) => `${sqlString(c)}: 'VARCHAR'`),
    ...req.fields
      .filter((f) => header.includes(columnOf(f)))
      .map((f) => `${sqlString(columnOf(f))}: 'DOUBLE'`),
    ...(header.includes("allocation") ? ["'allocation': 'DOUBLE'"] : []),
  ];
  const read = `read_csv(${sqlString(path)}, header = true, auto_detect = true, types = {${types.join(", ")}})`;
  return {
    from: read,
    unitsOnly: `(SELECT unit FROM ${read})`,
    field: (f) => (header.includes(columnOf(f)) ? ident(columnOf(f)) : "CAST(NULL AS DOUBLE)"),
    allocation: header.includes("allocation") ? "allocation" : "CAST(NULL AS DOUBLE)",
    segment: (d) => ident(`segment.${d}`),
    dimensions: segmentColumns.map((c) => c.slice("segment.".length)),
  };
}

/** The source for a file; JSONL whose records have a `type` is read as the router's event log. */
export async function sourceFor(path: string, format: DataFormat, req: DataRequest): Promise<Source> {
  if (format === "csv") return csvSource(path, req);
  if (format === "events" || (await isEventLog(path))) return eventLogSource(path, req);
  return jsonSource(path, req);
}
