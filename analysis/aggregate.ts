/**
 * Reduces a unit-level data file (JSONL or CSV) to a `DataSummary` with DuckDB.
 *
 * A columnar engine, because `analyze` must keep up with experiment-sized logs (10 M units in
 * seconds on two cores; a streaming JSON.parse in Node is slower than DuckDB's whole analysis).
 * Parsing dominates, so the file is scanned once for everything: one GROUP BY over the finest
 * cells (variant × allocation phase × every segment dimension) returns per-cell moments, and the
 * arms, phases and segments are merged from those cells exactly (stats/moments.ts). A second,
 * lighter scan checks that no unit appears twice. DuckDB only says "something is wrong near line
 * N", so when a check finds bad rows the file is re-read by `locateDataErrors`, which names every
 * bad line and field.
 */
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import {
  emptyMoments,
  emptyPairMoments,
  type Moments,
  mergeMoments,
  mergePairMoments,
  type PairMoments,
  sampleVariance,
} from "../stats/moments.ts";
import type { DataFormat } from "./data-format.ts";
import { type DataRequest, type DataSummary, fieldKey, pairKey } from "./data-summary.ts";
import { DataError, locateDataErrors } from "./locate-errors.ts";
import { jsonSource, type Source, sourceFor } from "./sources.ts";
import { sqlString } from "./sql.ts";

/** Segment dimensions with more values than this are skipped: a Simpson check over them says nothing. */
export const MAX_SEGMENT_VALUES = 50;

const num = (v: unknown): number => (v === null || v === undefined ? Number.NaN : Number(v));
/** DuckDB's var_samp is NULL below two rows; M2 is then 0. */
const m2Of = (variance: unknown, n: number) => (n < 2 || variance === null ? 0 : num(variance) * (n - 1));

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJS() as Record<string, unknown>[];
}

/** One cell of the finest grouping, with moments of every field and pair. */
interface Cell {
  variant: string;
  allocation: number | null;
  segments: (string | null)[];
  units: number;
  fields: Moments[];
  pairs: PairMoments[];
}

export function cellQuery(src: Source, req: DataRequest): string {
  const segs = src.dimensions.map((d, i) => `${src.segment(d)} AS s${i}`);
  const select = ["variant", `${src.allocation} AS allocation`, ...segs, "count(*) AS units"];
  req.fields.forEach((f, i) => {
    const e = src.field(f);
    select.push(`count(${e}) AS n${i}`, `avg(${e}) AS m${i}`, `var_samp(${e}) AS v${i}`);
  });
  req.pairs.forEach((p, i) => {
    const a = src.field(p.a);
    const b = src.field(p.b);
    const both = `FILTER (WHERE ${a} IS NOT NULL AND ${b} IS NOT NULL)`;
    select.push(
      `count(*) ${both} AS pn${i}`,
      `avg(${a}) ${both} AS pa${i}`,
      `avg(${b}) ${both} AS pb${i}`,
      `var_samp(${a}) ${both} AS pva${i}`,
      `var_samp(${b}) ${both} AS pvb${i}`,
      `covar_samp(${a}, ${b}) AS pc${i}`,
    );
  });
  // Problems DuckDB can see without line numbers; any non-zero count sends us to the exact scan.
  const problems = [
    "unit IS NULL OR unit = ''",
    `variant IS NULL OR variant NOT IN (${req.variants.map(sqlString).join(", ")})`,
    `${src.allocation} < 0 OR ${src.allocation} > 100 OR NOT isfinite(${src.allocation})`,
    ...req.fields.map((f) => `NOT isfinite(${src.field(f)}) OR abs(${src.field(f)}) > 1e150`),
    ...req.binary.map((m) => `${src.field({ kind: "metric", name: m })} NOT IN (0, 1)`),
  ];
  select.push(`count(*) FILTER (WHERE ${problems.map((p) => `(${p})`).join(" OR ")}) AS problems`);
  select.push(`count(${src.allocation}) AS with_allocation`);
  if (src.unknownDimension)
    select.push(`count(*) FILTER (WHERE ${src.unknownDimension}) AS unknown_dimensions`);
  return `SELECT ${select.join(", ")} FROM ${src.from} GROUP BY ALL`;
}

function toCell(r: Record<string, unknown>, src: Source, req: DataRequest): Cell {
  return {
    variant: String(r.variant),
    allocation: r.allocation === null ? null : num(r.allocation),
    segments: src.dimensions.map((_, i) => (r[`s${i}`] === null ? null : String(r[`s${i}`]))),
    units: num(r.units),
    fields: req.fields.map((_, i) => {
      const n = num(r[`n${i}`]);
      return { n, mean: n === 0 ? 0 : num(r[`m${i}`]), m2: m2Of(r[`v${i}`], n) };
    }),
    pairs: req.pairs.map((_, i) => {
      const n = num(r[`pn${i}`]);
      if (n === 0) return emptyPairMoments();
      return {
        n,
        meanA: num(r[`pa${i}`]),
        meanB: num(r[`pb${i}`]),
        m2A: m2Of(r[`pva${i}`], n),
        m2B: m2Of(r[`pvb${i}`], n),
        c: m2Of(r[`pc${i}`], n),
      };
    }),
  };
}

/** Cells merged by a key: units, and field/pair moments. */
interface Group {
  units: number;
  fields: Moments[];
  pairs: PairMoments[];
}

function groupBy(cells: Cell[], req: DataRequest, key: (c: Cell) => string | null): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const c of cells) {
    const k = key(c);
    if (k === null) continue;
    const g = groups.get(k) ?? {
      units: 0,
      fields: req.fields.map(emptyMoments),
      pairs: req.pairs.map(emptyPairMoments),
    };
    g.units += c.units;
    g.fields = g.fields.map((m, i) => mergeMoments(m, c.fields[i]!));
    g.pairs = g.pairs.map((m, i) => mergePairMoments(m, c.pairs[i]!));
    groups.set(k, g);
  }
  return groups;
}

const fieldsOut = (g: Group, req: DataRequest) =>
  Object.fromEntries(
    req.fields.map((f, i) => {
      const m = g.fields[i]!;
      return [fieldKey(f), { n: m.n, mean: m.mean, variance: sampleVariance(m) }];
    }),
  );

function summarise(path: string, cells: Cell[], src: Source, req: DataRequest): DataSummary {
  const arms: DataSummary["arms"] = {};
  for (const [variant, g] of groupBy(cells, req, (c) => c.variant)) {
    arms[variant] = {
      units: g.units,
      fields: fieldsOut(g, req),
      pairs: Object.fromEntries(
        req.pairs.map((p, i) => {
          const m = g.pairs[i]!;
          const v = (x: number) => (m.n < 2 ? 0 : x / (m.n - 1));
          return [
            pairKey(p),
            { n: m.n, meanA: m.meanA, meanB: m.meanB, varA: v(m.m2A), varB: v(m.m2B), cov: v(m.c) },
          ];
        }),
      ),
    };
  }
  const phaseGroups = groupBy(cells, req, (c) =>
    c.allocation === null ? null : JSON.stringify([c.allocation, c.variant]),
  );
  const phases = new Map<number, DataSummary["phases"][number]>();
  for (const [key, g] of phaseGroups) {
    const [percent, variant] = JSON.parse(key) as [number, string];
    const phase = phases.get(percent) ?? { percent, arms: {} };
    phase.arms[variant] = { units: g.units, fields: fieldsOut(g, req) };
    phases.set(percent, phase);
  }
  const segments: DataSummary["segments"] = {};
  src.dimensions.forEach((dimension, d) => {
    const values = new Set(cells.map((c) => c.segments[d]).filter((v) => v !== null));
    if (values.size < 2 || values.size > MAX_SEGMENT_VALUES) return;
    const dim: DataSummary["segments"][string] = {};
    const key = (c: Cell) => (c.segments[d] === null ? null : JSON.stringify([c.segments[d], c.variant]));
    for (const [k, g] of groupBy(cells, req, key)) {
      const [value, variant] = JSON.parse(k) as [string, string];
      const cellsOfValue = dim[value] ?? {};
      dim[value] = cellsOfValue;
      const fields = fieldsOut(g, req);
      cellsOfValue[variant] = {
        units: g.units,
        fields: Object.fromEntries(
          req.segmentFields.map((name) => {
            const f = fields[fieldKey({ kind: "metric", name })]!;
            return [fieldKey({ kind: "metric", name }), { n: f.n, mean: f.mean }];
          }),
        ),
      };
    }
    segments[dimension] = dim;
  });
  return {
    file: path,
    rows: cells.reduce((n, c) => n + c.units, 0),
    arms,
    phases: [...phases.values()].sort((a, b) => a.percent - b.percent),
    segments,
  };
}

/**
 * Summarises `path` for the request. Throws `DataError` naming file, line and field for bad rows
 * (unknown variant, missing unit, non-numeric or non-binary values, duplicate units, a partial
 * allocation column).
 */
export async function aggregateData(
  path: string,
  format: DataFormat,
  req: DataRequest,
): Promise<DataSummary> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  const scan = async (src: Source) => {
    try {
      return await rows(conn, cellQuery(src, req));
    } catch (error) {
      throw await locateDataErrors(path, format, req, error);
    }
  };
  const count = (result: Record<string, unknown>[], column: string) =>
    result.reduce((n, r) => n + num(r[column]), 0);
  try {
    let src = await sourceFor(path, format, req);
    let result = await scan(src);
    if (count(result, "unknown_dimensions") > 0) {
      // Perhaps only a segment dimension the head of the file did not show: learn them all and rescan.
      const dims = await rows(
        conn,
        `SELECT DISTINCT unnest(map_keys(segments)) AS d FROM ${src.from} ORDER BY d`,
      );
      if (dims.length > src.dimensions.length) {
        src = await jsonSource(
          path,
          req,
          dims.map((r) => String(r.d)),
        );
        result = await scan(src);
      }
    }
    const withAllocation = count(result, "with_allocation");
    if (
      count(result, "problems") > 0 ||
      (withAllocation !== 0 && withAllocation !== count(result, "units"))
    ) {
      throw await locateDataErrors(path, format, req);
    }
    const [dup] = await rows(conn, `SELECT count(*) - count(DISTINCT hash(unit)) AS d FROM ${src.unitsOnly}`);
    // A 64-bit hash makes a false alarm possible but vanishingly rare; the exact scan decides.
    if (num(dup?.d) > 0) {
      const error = await locateDataErrors(path, format, req);
      if (error.problems.some((p) => p.line > 0)) throw error;
    }
    const cells = result.map((r) => toCell(r, src, req)).filter((c) => c.units > 0);
    return summarise(path, cells, src, req);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

export { DataError };
