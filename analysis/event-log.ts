/**
 * The router's event log (`router --events <file>`, router/records.ts) read as analysis data.
 *
 * ### Reading the router's event log
 *
 * `llm-ab analyze <spec> --data events.jsonl` accepts the router's event log as it is: a JSONL
 * file whose records carry a `type` (`exposure`, `outcome`, `shadow`) is recognised from its
 * first record (or forced with `--format events`) and reduced to one row per unit, in DuckDB, by
 * these rules:
 *
 * - **Units.** Every unit with at least one exposure is a unit of the experiment. Outcomes of a
 *   unit that was never exposed are left out: the unit never reached the router's split.
 * - **Variant: intent to treat.** A unit belongs to its sticky assignment (`assigned`), not to the
 *   variant that served a turn, so turns served by control while the experiment was paused or
 *   rolled back still count for the treatment they were assigned. If the assignment ever changed,
 *   the unit's first exposure (earliest `t`) decides.
 * - **Allocation phase.** The first exposure's `allocation` (the treatment percent when the unit
 *   was first assigned); SRM and the metric tests use phases exactly as with unit-level data.
 * - **Outcome metrics** (`POST /v1/outcomes`), per unit and metric: a binary metric takes its
 *   last value (latest `t`; at the same instant, the larger); the numerator and denominator of a
 *   ratio metric are summed; any other metric takes the mean of its values.
 * - **Router-measured metrics**, from the unit's exposures, usable by these names in the spec:
 *   `turns` (exposures), `errors` (exposures answered with status ≥ 500, or 0 when the client
 *   went away first), `output_tokens` and `cost_usd` (sums over the turns that report them), and
 *   `ttft_seconds` and `e2e_seconds` (means). A per-conversation error rate is then the ratio
 *   metric `errors / turns`. Outcomes may not use these names.
 * - **Not in the event log:** segment dimensions and pre-period covariates. The Simpson check
 *   has nothing to split by, and a metric with a `covariate` (CUPED) is left untested, its note
 *   saying the covariate has no data: drop `covariate` from the spec to test it from the log.
 * - **One experiment per file**: every record names the experiment of the first record.
 * - **Well-formed records**: a bad record stops the analysis with the file, line and field, like
 *   a bad row of unit-level data (an unknown `type` or assigned variant, a missing unit, time,
 *   allocation or status, a non-numeric value, a binary outcome other than 0/1, an outcome
 *   posted under a router-measured name). `shadow` records are checked but not analysed;
 *   `interleaving` and `interleaving_feedback` records are left to `llm-ab interleaving analyze`.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { isRouterMeasuredName, type RouterMeasuredName } from "../spec/router-measured.ts";
import type { DataRequest, FieldRef } from "./data-summary.ts";
import type { Source } from "./sources.ts";
import { ident, sqlString } from "./sql.ts";

/** Per-unit fields the router measures, by the metric name a spec uses for them. */
export const routerUnitFields: Readonly<Record<RouterMeasuredName, string>> = {
  turns: "count(*) FILTER (WHERE type = 'exposure')",
  errors: "count(*) FILTER (WHERE type = 'exposure' AND (status >= 500 OR status = 0))",
  output_tokens: "sum(outputTokens) FILTER (WHERE type = 'exposure')",
  cost_usd: "sum(costUsd) FILTER (WHERE type = 'exposure')",
  ttft_seconds: "avg(ttftSeconds) FILTER (WHERE type = 'exposure')",
  e2e_seconds: "avg(e2eSeconds) FILTER (WHERE type = 'exposure')",
};

export type RouterUnitField = RouterMeasuredName;

export const isRouterUnitField = isRouterMeasuredName;

/** The optional numeric exposure field behind a router-measured metric, read only when a metric needs it. */
const exposureColumnOf: Partial<Record<RouterUnitField, string>> = {
  output_tokens: "outputTokens",
  cost_usd: "costUsd",
  ttft_seconds: "ttftSeconds",
  e2e_seconds: "e2eSeconds",
};

/** The optional exposure columns the requested metrics read; only these are read and checked. */
function exposureColumns(req: DataRequest): string[] {
  const columns = req.fields.flatMap((f) =>
    f.kind === "metric" && isRouterUnitField(f.name) ? (exposureColumnOf[f.name] ?? []) : [],
  );
  return [...new Set(columns)];
}

/** Interleaving records share the log but belong to `llm-ab interleaving analyze`: checked for type only. */
const recordTypes = ["exposure", "outcome", "shadow", "interleaving", "interleaving_feedback"] as const;

/** Lines looked at to recognise an event log; the first JSON object among them decides. */
const SNIFF_LINES = 100;

/** The first JSON object of a JSONL file, if one starts it (blank or malformed lines skipped). */
async function firstObject(path: string): Promise<Record<string, unknown> | undefined> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  try {
    for await (const line of lines) {
      if (++n > SNIFF_LINES) break;
      try {
        const rec: unknown = JSON.parse(line);
        if (typeof rec === "object" && rec !== null && !Array.isArray(rec))
          return rec as Record<string, unknown>;
      } catch {
        // Blank or malformed: the exact scan reports it; recognition looks at the next line.
      }
    }
  } finally {
    lines.close();
  }
  return undefined;
}

/** Whether the JSONL file at `path` is a router event log: its first JSON object has a `type`. */
export async function isEventLog(path: string): Promise<boolean> {
  const first = await firstObject(path);
  return first !== undefined && "type" in first;
}

/** How a requested outcome metric is reduced per unit (see the rules above). */
function outcomeReduction(name: string, req: DataRequest): "last" | "sum" | "mean" {
  if (req.binary.includes(name)) return "last";
  const ratioPart = req.pairs.some(
    (p) => p.a.kind === "metric" && p.b.kind === "metric" && (p.a.name === name || p.b.name === name),
  );
  return ratioPart ? "sum" : "mean";
}

function unitFieldSql(f: FieldRef, req: DataRequest): string {
  if (f.kind === "pre") return "CAST(NULL AS DOUBLE)";
  if (isRouterUnitField(f.name)) return `CAST(${routerUnitFields[f.name]} AS DOUBLE)`;
  const mine = `FILTER (WHERE type = 'outcome' AND metric = ${sqlString(f.name)})`;
  switch (outcomeReduction(f.name, req)) {
    case "last":
      return `(max({'t': t, 'v': value}) ${mine}).v`;
    case "sum":
      return `sum(value) ${mine}`;
    case "mean":
      return `avg(value) ${mine}`;
  }
}

/**
 * True for a record the exact scan (`checkEventRecord`) would reject. NULL-safe by construction:
 * a comparison with a missing optional field is NULL, which `bool_or` ignores.
 */
function badRecordSql(req: DataRequest, numbers: readonly string[], experiment: unknown): string {
  // Keep in step with checkEventRecord: a record bad here must be named there.
  const inList = (xs: readonly string[]) => xs.map(sqlString).join(", ") || "NULL";
  const exposure = [
    "assigned IS NULL",
    `assigned NOT IN (${inList(req.variants)})`,
    "allocation IS NULL",
    "NOT isfinite(allocation) OR allocation < 0 OR allocation > 100",
    "status IS NULL OR NOT isfinite(status)",
    ...numbers.map((c) => `NOT isfinite(${c})`),
  ];
  const outcome = [
    "metric IS NULL OR metric = ''",
    `metric IN (${inList(Object.keys(routerUnitFields))})`,
    "value IS NULL OR NOT isfinite(value)",
    `metric IN (${inList(req.binary)}) AND value NOT IN (0, 1)`,
  ];
  return [
    `type IS NULL OR type NOT IN (${inList(recordTypes)})`,
    "t IS NULL",
    "experiment IS NULL OR experiment = ''",
    ...(typeof experiment === "string" ? [`experiment <> ${sqlString(experiment)}`] : []),
    "type IN ('exposure', 'outcome') AND (unit IS NULL OR unit = '')",
    `type = 'exposure' AND (${exposure.map((e) => `(${e})`).join(" OR ")})`,
    `type = 'outcome' AND (${outcome.map((e) => `(${e})`).join(" OR ")})`,
  ]
    .map((e) => `(${e})`)
    .join(" OR ");
}

/**
 * The event log as a unit-level `Source` for `aggregateData`: a subquery with one row per unit,
 * built by one GROUP BY over the file. A unit holding any bad record gets a NULL variant, which
 * the aggregation counts as a problem and answers with the exact scan (`locateDataErrors`), so
 * both paths judge records alike.
 */
export async function eventLogSource(path: string, req: DataRequest): Promise<Source> {
  // The experiment is the first record's, read here: comparing every record with a constant keeps
  // "one experiment per file" inside the single GROUP BY instead of a second pass over the units.
  const experiment = (await firstObject(path))?.experiment;
  const numbers = exposureColumns(req);
  const columns = [
    "type: 'VARCHAR'",
    "t: 'TIMESTAMPTZ'",
    "experiment: 'VARCHAR'",
    "unit: 'VARCHAR'",
    "assigned: 'VARCHAR'",
    "allocation: 'DOUBLE'",
    "status: 'DOUBLE'",
    "metric: 'VARCHAR'",
    "value: 'DOUBLE'",
    ...numbers.map((c) => `${c}: 'DOUBLE'`),
  ];
  const column = (f: FieldRef) => ident(`${f.kind}.${f.name}`);
  const read = `read_json(${sqlString(path)}, format = 'newline_delimited', columns = {${columns.join(", ")}})`;
  const units = [
    "unit",
    // The first exposure by time decides both; ties broken by the values so reruns agree.
    "min({'t': t, 'assigned': assigned, 'allocation': allocation}) FILTER (WHERE type = 'exposure') AS first",
    `${routerUnitFields.turns} AS exposures`,
    `coalesce(bool_or(${badRecordSql(req, numbers, experiment)}), false) AS bad`,
    ...req.fields.map((f) => `${unitFieldSql(f, req)} AS ${column(f)}`),
  ];
  const view = `(
    SELECT unit,
      CASE WHEN bad THEN NULL ELSE first.assigned END AS variant,
      first.allocation AS allocation,
      ${req.fields.map(column).join(", ") || "NULL AS no_fields"}
    FROM (SELECT ${units.join(", ")} FROM ${read} GROUP BY unit)
    WHERE exposures > 0 OR bad
  )`;
  return {
    from: view,
    // Grouping by unit makes every unit unique: no second scan of the log to look for duplicates.
    unitsOnly: "(SELECT CAST(NULL AS VARCHAR) AS unit LIMIT 0)",
    field: column,
    allocation: "allocation",
    segment: () => "CAST(NULL AS VARCHAR)",
    dimensions: [],
  };
}

/** What the exact scan remembers across records: the first record's experiment, and its line. */
export interface EventScanState {
  experiment?: { name: string; line: number };
}

type Report = (line: number, field: string, message: string) => void;

/** The number a DuckDB DOUBLE column reads from a JSON value (NaN when it would fail or be NULL). */
function asNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return Number(v);
  if (typeof v === "string" && v.trim() !== "") return Number(v);
  return Number.NaN;
}

const present = (v: unknown) => v !== undefined && v !== null;

/** Checks one event-log record, reporting every problem with its line and field. */
export function checkEventRecord(
  rec: Record<string, unknown>,
  req: DataRequest,
  line: number,
  state: EventScanState,
  report: Report,
): void {
  const type = rec.type;
  if (typeof type !== "string" || !(recordTypes as readonly string[]).includes(type)) {
    report(line, "type", `expected ${recordTypes.join(", ")} (got ${JSON.stringify(type)})`);
  }
  if (typeof rec.t !== "string" || !isIsoTime(rec.t)) {
    report(
      line,
      "t",
      `expected an ISO 8601 time such as 2026-01-31T12:00:00.000Z (got ${JSON.stringify(rec.t)})`,
    );
  }
  const experiment = rec.experiment;
  if (typeof experiment !== "string" || experiment === "") {
    report(line, "experiment", `expected the experiment name (got ${JSON.stringify(experiment)})`);
  } else if (state.experiment === undefined) {
    state.experiment = { name: experiment, line };
  } else if (experiment !== state.experiment.name) {
    report(
      line,
      "experiment",
      `"${experiment}" here but "${state.experiment.name}" on line ${state.experiment.line}: analyze reads one experiment per event log (split it, e.g. jq -c 'select(.experiment == "${state.experiment.name}")')`,
    );
  }
  if (type !== "exposure" && type !== "outcome") return;
  if ((typeof rec.unit !== "string" && typeof rec.unit !== "number") || String(rec.unit) === "") {
    report(line, "unit", `missing or empty unit id (got ${JSON.stringify(rec.unit)})`);
  }
  const finite = (field: string, required: boolean) => {
    const v = rec[field];
    if (!present(v) && !required) return;
    if (!Number.isFinite(asNumber(v))) report(line, field, `not a finite number: ${JSON.stringify(v)}`);
  };
  if (type === "exposure") {
    if (typeof rec.assigned !== "string" || !req.variants.includes(rec.assigned)) {
      report(
        line,
        "assigned",
        `unknown assigned variant ${JSON.stringify(rec.assigned)} (known: ${req.variants.join(", ")})`,
      );
    }
    const a = asNumber(rec.allocation);
    if (!Number.isFinite(a) || a < 0 || a > 100) {
      report(
        line,
        "allocation",
        `must be the treatment percent (0..100) in force at first assignment, got ${JSON.stringify(rec.allocation)}`,
      );
    }
    finite("status", true);
    for (const c of exposureColumns(req)) finite(c, false);
    return;
  }
  const metric = rec.metric;
  if (typeof metric !== "string" || metric === "") {
    report(line, "metric", `missing or empty metric name (got ${JSON.stringify(metric)})`);
  } else if (isRouterUnitField(metric)) {
    report(
      line,
      "metric",
      `"${metric}" is measured by the router from exposures; post this outcome under another name`,
    );
  }
  const value = asNumber(rec.value);
  if (!Number.isFinite(value)) report(line, "value", `not a finite number: ${JSON.stringify(rec.value)}`);
  else if (typeof metric === "string" && req.binary.includes(metric) && value !== 0 && value !== 1) {
    report(line, "value", `binary metric must be 0 or 1 (or true/false), got ${JSON.stringify(rec.value)}`);
  }
}

/** ISO 8601 date-time as DuckDB's TIMESTAMPTZ reads it: date, time, optional fraction and offset. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/;

function isIsoTime(s: string): boolean {
  return ISO_TIME.test(s) && Number.isFinite(Date.parse(s));
}
