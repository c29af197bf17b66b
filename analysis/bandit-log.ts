/**
 * A bandit experiment's event log reduced to what inverse-propensity weighting needs: per unit, the
 * arm it was first assigned, the probability that arm had when it was drawn (the exposure's
 * `propensities`), and its outcome values.
 *
 * The rules are the event log's (event-log.ts): the first exposure by time decides the arm; a
 * binary outcome takes the unit's last value, any other the mean of its values; units never
 * exposed are left out. Read in one streaming pass in JavaScript rather than DuckDB because the
 * propensity sits in a per-record map keyed by the arm's name, and one pass over a few million
 * lines takes seconds.
 */
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { DataError, type DataProblem } from "./locate-errors.ts";

/** One unit of a bandit experiment. */
export interface BanditUnit {
  arm: string;
  /** Probability of `arm` when the unit was drawn. */
  propensity: number;
  /** Version of the allocation it was drawn from. */
  allocationVersion: number;
  /** Every arm's probability at that draw. */
  propensities: Record<string, number>;
  /** The runtime state at the unit's first exposure (control serves every unit unless active). */
  firstState: string;
  /**
   * A later exposure named another arm: the router lost the unit's assignment (a memory store
   * restarted, an eviction) and drew it again. The unit stays under its first arm.
   */
  armChanged: boolean;
  /** Reduced outcome value per metric (see the file comment). */
  outcomes: Map<string, number>;
}

/** What the reader needs to know of the spec. */
export interface BanditLogRequest {
  readonly variants: readonly string[];
  /** Metrics to collect, with whether each is binary (last value) or not (mean). */
  readonly metrics: ReadonlyMap<string, "binary" | "mean">;
}

interface UnitDraft {
  t: number;
  /** Another exposure of the unit named another arm. */
  changed: boolean;
  state: string;
  arm: string;
  propensities: Record<string, number>;
  version: number;
}

interface OutcomeDraft {
  t: number;
  sum: number;
  n: number;
  last: number;
}

const MAX_LISTED = 20;

/** Reads a bandit event log; a bad record stops it with the file, line and field. */
export async function readBanditLog(path: string, req: BanditLogRequest): Promise<Map<string, BanditUnit>> {
  const first = new Map<string, UnitDraft>();
  const values = new Map<string, Map<string, OutcomeDraft>>();
  const problems: DataProblem[] = [];
  let total = 0;
  const report: Report = (line, field, message) => {
    total++;
    if (problems.length < MAX_LISTED) problems.push({ file: path, line, field, message });
    return false;
  };
  let lineNo = 0;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const text of lines) {
    lineNo++;
    if (text.trim() === "") continue;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(text) as Record<string, unknown>;
    } catch {
      report(lineNo, "(line)", "not a JSON object");
      continue;
    }
    const t = typeof rec.t === "string" ? Date.parse(rec.t) : Number.NaN;
    if (rec.type === "exposure") readExposure(rec, t, lineNo, req, first, report);
    else if (rec.type === "outcome") readOutcome(rec, t, lineNo, req, values, report);
  }
  if (total > 0) throw new DataError(problems, total);
  const units = new Map<string, BanditUnit>();
  for (const [unit, d] of first) {
    const outcomes = new Map<string, number>();
    for (const [metric, o] of values.get(unit) ?? []) {
      outcomes.set(metric, req.metrics.get(metric) === "binary" ? o.last : o.sum / o.n);
    }
    units.set(unit, {
      arm: d.arm,
      propensity: d.propensities[d.arm] ?? Number.NaN,
      allocationVersion: d.version,
      propensities: d.propensities,
      firstState: d.state,
      armChanged: d.changed,
      outcomes,
    });
  }
  return units;
}

/** Records a problem; returns false so a reader can `return report(…)` to drop the record. */
type Report = (line: number, field: string, message: string) => false;

function readExposure(
  rec: Record<string, unknown>,
  t: number,
  line: number,
  req: BanditLogRequest,
  first: Map<string, UnitDraft>,
  report: Report,
): boolean {
  const unit = rec.unit;
  if (typeof unit !== "string" || unit === "") return report(line, "unit", "missing or empty unit id");
  if (!Number.isFinite(t))
    return report(line, "t", `expected an ISO 8601 time (got ${JSON.stringify(rec.t)})`);
  const arm = rec.assigned;
  if (typeof arm !== "string" || !req.variants.includes(arm)) {
    return report(
      line,
      "assigned",
      `unknown assigned variant ${JSON.stringify(arm)} (known: ${req.variants.join(", ")})`,
    );
  }
  const p = rec.propensities;
  if (typeof p !== "object" || p === null || Array.isArray(p)) {
    return report(
      line,
      "propensities",
      "missing: a bandit's exposures record every arm's probability (was this log, or this unit's assignment, written in another rollout mode? switch to bandit with a new salt)",
    );
  }
  const propensities = p as Record<string, unknown>;
  const pArm = propensities[arm];
  if (typeof pArm !== "number" || !(pArm > 0 && pArm <= 1)) {
    return report(
      line,
      "propensities",
      `the assigned arm ${arm} needs a probability in (0, 1], got ${JSON.stringify(pArm)}`,
    );
  }
  const sum = Object.values(propensities).reduce<number>(
    (s, v) => s + (typeof v === "number" ? v : Number.NaN),
    0,
  );
  if (!(Math.abs(sum - 1) < 1e-6)) return report(line, "propensities", `must sum to 1, got ${sum}`);
  const known = first.get(unit);
  const changed = known !== undefined && (known.changed || known.arm !== arm);
  if (known !== undefined && known.t <= t) {
    known.changed = changed;
    return true;
  }
  first.set(unit, {
    t,
    changed,
    state: typeof rec.state === "string" ? rec.state : "active",
    arm,
    propensities: propensities as Record<string, number>,
    version: typeof rec.allocationVersion === "number" ? rec.allocationVersion : 0,
  });
  return true;
}

function readOutcome(
  rec: Record<string, unknown>,
  t: number,
  line: number,
  req: BanditLogRequest,
  values: Map<string, Map<string, OutcomeDraft>>,
  report: Report,
): boolean {
  const metric = rec.metric;
  if (typeof metric !== "string" || !req.metrics.has(metric)) return true;
  const unit = rec.unit;
  if (typeof unit !== "string" || unit === "") return report(line, "unit", "missing or empty unit id");
  if (!Number.isFinite(t))
    return report(line, "t", `expected an ISO 8601 time (got ${JSON.stringify(rec.t)})`);
  const value = typeof rec.value === "boolean" ? Number(rec.value) : rec.value;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    return report(line, "value", `not a finite number: ${JSON.stringify(rec.value)}`);
  }
  if (req.metrics.get(metric) === "binary" && value !== 0 && value !== 1) {
    return report(line, "value", `binary metric must be 0 or 1, got ${JSON.stringify(rec.value)}`);
  }
  const perUnit = values.get(unit) ?? new Map<string, OutcomeDraft>();
  values.set(unit, perUnit);
  const o = perUnit.get(metric);
  if (o === undefined) perUnit.set(metric, { t, sum: value, n: 1, last: value });
  else {
    o.sum += value;
    o.n++;
    // The last value by time; at the same instant, the larger (as event-log.ts).
    if (t > o.t || (t === o.t && value > o.last)) {
      o.t = t;
      o.last = value;
    }
  }
  return true;
}
