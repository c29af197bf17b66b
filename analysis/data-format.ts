/**
 * Data file formats `analyze` reads, and the little it must know about them before DuckDB does.
 * `events` is the router's event log (analysis/event-log.ts); a `.jsonl` file is recognised as one
 * from its first record, so the format is only needed when the extension says nothing.
 */
import { createReadStream } from "node:fs";
import { extname } from "node:path";
import { createInterface } from "node:readline";

export type DataFormat = "jsonl" | "csv" | "events";

const byExtension: Record<string, DataFormat> = {
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
  ".json": "jsonl",
  ".csv": "csv",
};

/** The format named by `explicit`, else by the file's extension; throws naming both when neither says. */
export function detectFormat(path: string, explicit?: string): DataFormat {
  if (explicit !== undefined) {
    if (explicit === "jsonl" || explicit === "csv" || explicit === "events") return explicit;
    throw new Error(`--format ${explicit}: unknown data format (use jsonl, csv or events)`);
  }
  const format = byExtension[extname(path).toLowerCase()];
  if (!format) {
    throw new Error(
      `${path}: cannot tell the data format from the extension "${extname(path)}" (use .jsonl, .ndjson, .csv or --format)`,
    );
  }
  return format;
}

/** The column names on a CSV file's first line (quoted names unquoted). */
export async function readCsvHeader(path: string): Promise<string[]> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) {
      return line.split(",").map((c) => c.trim().replace(/^"(.*)"$/, "$1"));
    }
  } finally {
    lines.close();
  }
  throw new Error(`${path}: the CSV file is empty (expected a header line: unit,variant,<metric>...)`);
}
