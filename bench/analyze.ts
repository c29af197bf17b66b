/**
 * bench/analyze: `llm-ab analyze` over generated unit-level data, in records per second.
 *
 * Side by side in one run, on the same files: the full analysis (DuckDB aggregation, every test,
 * the verdict) over JSONL and CSV, and the ceiling of the obvious alternative, a streaming
 * `JSON.parse` pass that only sums the primary metric per arm. Target: ≥ 1 M records/s.
 *
 *   npm run bench:analyze -- [--records 10000000] [--dir bench/out]
 */
import { createReadStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import { runAnalysis } from "../analysis/analyze.ts";
import { loadSpecFile } from "../spec/load.ts";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "10000000" },
    dir: { type: "string", default: "bench/out" },
  },
});
const records = Number(values.records);
if (!Number.isInteger(records) || records < 1000)
  throw new Error(`--records must be an integer ≥ 1000, got ${values.records}`);
const dir = resolve(values.dir);
const specPath = "examples/support-bot-policy-prompt.yaml";

/** Generates the data with DuckDB itself: writing 10 M JSON lines from Node would dominate the run. */
async function generate(): Promise<{ jsonl: string; csv: string }> {
  await mkdir(dir, { recursive: true });
  const jsonl = join(dir, `units-${records}.jsonl`);
  const csv = join(dir, `units-${records}.csv`);
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  // Treatment resolves 61.5 % vs 60 %; tokens and a correlated pre-period covariate for CUPED.
  await conn.run(`CREATE TABLE g AS SELECT 'c-' || i AS unit,
      CASE WHEN hash(i) % 2 = 0 THEN 'control' ELSE 'treatment' END AS variant,
      ['eu', 'us', 'apac'][1 + (i % 3)::INT] AS region, random() AS r, random() AS pre_tokens FROM range(${records}) t(i)`);
  await conn.run(`COPY (SELECT unit, variant,
      {'resolution_rate': (r < CASE WHEN variant = 'control' THEN 0.60 ELSE 0.615 END)::INT,
       'response_tokens': round(150 + 200 * pre_tokens + 40 * r, 1)} AS metrics,
      {'region': region} AS segments, {'response_tokens': round(150 + 200 * pre_tokens, 1)} AS pre FROM g)
    TO '${jsonl}' (FORMAT JSON)`);
  await conn.run(`COPY (SELECT unit, variant, (r < CASE WHEN variant = 'control' THEN 0.60 ELSE 0.615 END)::INT AS resolution_rate,
      round(150 + 200 * pre_tokens + 40 * r, 1) AS response_tokens, region AS "segment.region",
      round(150 + 200 * pre_tokens, 1) AS "pre.response_tokens" FROM g) TO '${csv}' (HEADER)`);
  conn.closeSync();
  db.closeSync();
  return { jsonl, csv };
}

/** The baseline: one streaming pass with JSON.parse per line, summing one metric per arm. */
async function jsonParseBaseline(path: string): Promise<number> {
  const sums = new Map<string, { n: number; sum: number }>();
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    const rec = JSON.parse(line) as { variant: string; metrics: { resolution_rate: number } };
    const s = sums.get(rec.variant) ?? { n: 0, sum: 0 };
    s.n++;
    s.sum += rec.metrics.resolution_rate;
    sums.set(rec.variant, s);
  }
  return [...sums.values()].reduce((n, s) => n + s.n, 0);
}

async function timed(
  label: string,
  fn: () => Promise<number>,
): Promise<{ label: string; seconds: number; perSecond: number }> {
  process.stderr.write(`  ${label} ...`);
  const start = process.hrtime.bigint();
  const n = await fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (n !== records) throw new Error(`${label} read ${n} records, expected ${records}`);
  process.stderr.write(` ${seconds.toFixed(2)} s\n`);
  return { label, seconds, perSecond: records / seconds };
}

const spec = await loadSpecFile(specPath);
process.stderr.write(`generating ${records.toLocaleString("en")} unit records in ${dir} ...\n`);
const files = await generate();
for (const f of Object.values(files))
  process.stderr.write(`  ${f}: ${((await stat(f)).size / 2 ** 20).toFixed(0)} MiB\n`);

const results = [
  await timed("analyze JSONL (DuckDB)", async () => (await runAnalysis(spec, files.jsonl)).data.rows),
  await timed("analyze CSV (DuckDB)", async () => (await runAnalysis(spec, files.csv)).data.rows),
  await timed("streaming JSON.parse, sum only", () => jsonParseBaseline(files.jsonl)),
];
const baseline = results[2]!;
console.log(
  `\nbench/analyze: ${records.toLocaleString("en")} unit records, ${process.arch}, node ${process.version}`,
);
console.log("path                              seconds   records/s    vs JSON.parse   target ≥ 1 M/s");
for (const r of results) {
  console.log(
    `${r.label.padEnd(33)} ${r.seconds.toFixed(2).padStart(7)} ${Math.round(r.perSecond).toLocaleString("en").padStart(11)} ${(r.perSecond / baseline.perSecond).toFixed(2).padStart(12)}x   ${r.label.startsWith("analyze") ? (r.perSecond >= 1e6 ? "met" : "MISSED") : "-"}`,
  );
}
await rm(dir, { recursive: true, force: true });
