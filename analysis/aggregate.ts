/**
 * Reduces a unit-level data file (JSONL or CSV) to a `DataSummary` with DuckDB.
 *
 * A columnar engine, because `analyze` must keep up with experiment-sized logs (10 M units in a
 * few seconds on two cores; streaming JSON.parse in Node tops out well below that). DuckDB only
 * says "something is wrong near line N", so when its checks find bad rows the file is re-read by
 * `locateDataErrors`, which names every bad line and field.
 */
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { type DataFormat, readCsvHeader } from "./data-format.ts";
import {
  type ArmSummary,
  type DataRequest,
  type DataSummary,
  type FieldRef,
  fieldKey,
  type PhaseSummary,
  pairKey,
} from "./data-summary.ts";
import { DataError, locateDataErrors } from "./locate-errors.ts";

/** Segment dimensions with more values than this are skipped: a Simpson check over them says nothing. */
export const MAX_SEGMENT_VALUES = 50;

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
const ident = (s: string) => `"${s.replaceAll('"', '""')}"`;

interface Source {
  from: string;
  /** Select expression for the allocation column (JSONL reads it by name). */
  allocation?: string;
  field: (f: FieldRef) => string;
  segment: (dimension: string) => string;
  dimensionsSql?: string;
  dimensions?: string[];
}

function jsonSource(path: string, req: DataRequest): Source {
  const metrics = req.fields.filter((f) => f.kind === "metric").map((f) => `${ident(f.name)} DOUBLE`);
  const pre = req.fields.filter((f) => f.kind === "pre").map((f) => `${ident(f.name)} DOUBLE`);
  const columns = [
    "unit: 'VARCHAR'",
    "variant: 'VARCHAR'",
    `metrics: ${sqlString(`STRUCT(${metrics.join(", ")})`)}`,
    "segments: 'MAP(VARCHAR, VARCHAR)'",
    "allocation: 'DOUBLE'",
    ...(pre.length > 0 ? [`pre: ${sqlString(`STRUCT(${pre.join(", ")})`)}`] : []),
  ];
  return {
    from: `read_json(${sqlString(path)}, format = 'newline_delimited', columns = {${columns.join(", ")}})`,
    field: (f) => `${f.kind === "metric" ? "metrics" : "pre"}.${ident(f.name)}`,
    segment: (d) => `segments[${sqlString(d)}]`,
    dimensionsSql: "SELECT DISTINCT unnest(map_keys(segments)) AS d FROM units ORDER BY d",
  };
}

async function csvSource(path: string, req: DataRequest): Promise<Source> {
  const header = await readCsvHeader(path);
  const columnOf = (f: FieldRef) => (f.kind === "metric" ? f.name : `pre.${f.name}`);
  const types = [
    "'unit': 'VARCHAR'",
    "'variant': 'VARCHAR'",
    ...header.filter((c) => c.startsWith("segment.")).map((c) => `${sqlString(c)}: 'VARCHAR'`),
    ...req.fields
      .filter((f) => header.includes(columnOf(f)))
      .map((f) => `${sqlString(columnOf(f))}: 'DOUBLE'`),
  ];
  return {
    from: `read_csv(${sqlString(path)}, header = true, auto_detect = true, types = {${types.join(", ")}})`,
    field: (f) => (header.includes(columnOf(f)) ? ident(columnOf(f)) : "CAST(NULL AS DOUBLE)"),
    allocation: header.includes("allocation") ? "allocation" : "CAST(NULL AS DOUBLE) AS allocation",
    segment: (d) => ident(`segment.${d}`),
    dimensions: header.filter((c) => c.startsWith("segment.")).map((c) => c.slice("segment.".length)),
  };
}

const num = (v: unknown): number => (v === null || v === undefined ? Number.NaN : Number(v));

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

/** Counts of problems DuckDB can see without line numbers; any non-zero count sends us to the locator. */
async function countProblems(conn: DuckDBConnection, src: Source, req: DataRequest): Promise<number> {
  const checks = [
    "count(*) FILTER (WHERE unit IS NULL OR trim(unit) = '')",
    `count(*) FILTER (WHERE variant IS NULL OR variant NOT IN (${req.variants.map(sqlString).join(", ")}))`,
    ...req.fields.map((f) => `count(*) FILTER (WHERE NOT isfinite(${src.field(f)}))`),
    ...req.binary.map(
      (m) => `count(*) FILTER (WHERE ${src.field({ kind: "metric", name: m })} NOT IN (0, 1))`,
    ),
    "count(*) - count(DISTINCT unit)",
    "count(*) FILTER (WHERE allocation < 0 OR allocation > 100 OR NOT isfinite(allocation))",
    // Either every record says its allocation phase or none does: a partial column would silently drop units.
    "CASE WHEN count(allocation) IN (0, count(*)) THEN 0 ELSE 1 END",
  ];
  const [row] = await rows(conn, `SELECT ${checks.map((c, i) => `${c} AS c${i}`).join(", ")} FROM units`);
  return Object.values(row ?? {}).reduce<number>((sum, v) => sum + num(v), 0);
}

async function armSummaries(conn: DuckDBConnection, src: Source, req: DataRequest) {
  const select = ["variant", "count(*) AS units"];
  req.fields.forEach((f, i) => {
    const e = src.field(f);
    select.push(`count(${e}) AS n${i}`, `avg(${e}) AS m${i}`, `coalesce(var_samp(${e}), 0) AS v${i}`);
  });
  req.pairs.forEach((p, i) => {
    const a = src.field(p.a);
    const b = src.field(p.b);
    const both = `FILTER (WHERE ${a} IS NOT NULL AND ${b} IS NOT NULL)`;
    select.push(
      `count(*) ${both} AS pn${i}`,
      `avg(${a}) ${both} AS pma${i}`,
      `avg(${b}) ${both} AS pmb${i}`,
      `coalesce(var_samp(${a}) ${both}, 0) AS pva${i}`,
      `coalesce(var_samp(${b}) ${both}, 0) AS pvb${i}`,
      `coalesce(covar_samp(${a}, ${b}), 0) AS pc${i}`,
    );
  });
  const arms: Record<string, ArmSummary> = {};
  for (const r of await rows(conn, `SELECT ${select.join(", ")} FROM units GROUP BY variant`)) {
    const arm: ArmSummary = { units: num(r.units), fields: {}, pairs: {} };
    req.fields.forEach((f, i) => {
      arm.fields[fieldKey(f)] = { n: num(r[`n${i}`]), mean: num(r[`m${i}`]), variance: num(r[`v${i}`]) };
    });
    req.pairs.forEach((p, i) => {
      arm.pairs[pairKey(p)] = {
        n: num(r[`pn${i}`]),
        meanA: num(r[`pma${i}`]),
        meanB: num(r[`pmb${i}`]),
        varA: num(r[`pva${i}`]),
        varB: num(r[`pvb${i}`]),
        cov: num(r[`pc${i}`]),
      };
    });
    arms[String(r.variant)] = arm;
  }
  return arms;
}

async function segmentSummaries(conn: DuckDBConnection, src: Source, req: DataRequest) {
  const dimensions = src.dimensions ?? (await rows(conn, src.dimensionsSql!)).map((r) => String(r.d));
  const out: DataSummary["segments"] = {};
  const fields = req.segmentFields.map((name): FieldRef => ({ kind: "metric", name }));
  for (const d of dimensions) {
    const seg = src.segment(d);
    const [card] = await rows(conn, `SELECT count(DISTINCT ${seg}) AS k FROM units`);
    if (num(card?.k) > MAX_SEGMENT_VALUES || num(card?.k) < 2) continue;
    const select = fields.flatMap((f, i) => [
      `count(${src.field(f)}) AS n${i}`,
      `avg(${src.field(f)}) AS m${i}`,
    ]);
    const sql = `SELECT ${seg} AS value, variant, count(*) AS units${select.map((s) => `, ${s}`).join("")}
      FROM units WHERE ${seg} IS NOT NULL GROUP BY ALL`;
    const dim: Record<string, Record<string, DataSummary["segments"][string][string][string]>> = {};
    for (const r of await rows(conn, sql)) {
      const cells = dim[String(r.value)] ?? {};
      dim[String(r.value)] = cells;
      cells[String(r.variant)] = {
        units: num(r.units),
        fields: Object.fromEntries(
          fields.map((f, i) => [fieldKey(f), { n: num(r[`n${i}`]), mean: num(r[`m${i}`]) }]),
        ),
      };
    }
    out[d] = dim;
  }
  return out;
}

async function phaseSummaries(
  conn: DuckDBConnection,
  src: Source,
  req: DataRequest,
): Promise<PhaseSummary[]> {
  const fields = req.fields.filter((f) => f.kind === "metric");
  const select = fields.flatMap((f, i) => {
    const e = src.field(f);
    return [`count(${e}) AS n${i}`, `avg(${e}) AS m${i}`, `coalesce(var_samp(${e}), 0) AS v${i}`];
  });
  const sql = `SELECT allocation, variant, count(*) AS units${select.map((s) => `, ${s}`).join("")}
    FROM units WHERE allocation IS NOT NULL GROUP BY ALL ORDER BY allocation, variant`;
  const phases = new Map<number, PhaseSummary>();
  for (const r of await rows(conn, sql)) {
    const percent = num(r.allocation);
    const phase = phases.get(percent) ?? { percent, arms: {} };
    phase.arms[String(r.variant)] = {
      units: num(r.units),
      fields: Object.fromEntries(
        fields.map((f, i) => [
          fieldKey(f),
          { n: num(r[`n${i}`]), mean: num(r[`m${i}`]), variance: num(r[`v${i}`]) },
        ]),
      ),
    };
    phases.set(percent, phase);
  }
  return [...phases.values()];
}

/**
 * Summarises `path` for the request. Throws `DataError` naming file, line and field for bad rows
 * (unknown variant, missing unit, non-numeric or non-binary values, duplicate units).
 */
export async function aggregateData(
  path: string,
  format: DataFormat,
  req: DataRequest,
): Promise<DataSummary> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    const src = format === "csv" ? await csvSource(path, req) : jsonSource(path, req);
    const keep = [
      "unit",
      "variant",
      src.allocation ?? "allocation",
      ...(format === "jsonl" ? ["segments"] : (src.dimensions ?? []).map((d) => src.segment(d))),
      ...(format === "jsonl"
        ? ["metrics", ...(req.fields.some((f) => f.kind === "pre") ? ["pre"] : [])]
        : []),
      ...(format === "csv" ? req.fields.map((f) => `${src.field(f)} AS ${ident(fieldKey(f))}`) : []),
    ];
    try {
      await conn.run(`CREATE TEMP TABLE units AS SELECT ${keep.join(", ")} FROM ${src.from}`);
    } catch (error) {
      throw await locateDataErrors(path, format, req, error);
    }
    // After materialising, CSV fields live under their canonical names.
    const table: Source = format === "csv" ? { ...src, field: (f) => ident(fieldKey(f)) } : src;
    if ((await countProblems(conn, table, req)) > 0) throw await locateDataErrors(path, format, req);
    const [total] = await rows(conn, "SELECT count(*) AS n FROM units");
    return {
      file: path,
      rows: num(total?.n),
      arms: await armSummaries(conn, table, req),
      segments: await segmentSummaries(conn, table, req),
      phases: await phaseSummaries(conn, table, req),
    };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

export { DataError };
