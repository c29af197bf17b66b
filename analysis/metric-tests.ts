/**
 * One test per metric, chosen by its kind: a rate gets the two-proportion z-test, a mean Welch's
 * t-test (CUPED-adjusted when the spec names a pre-period covariate), a ratio of sums the delta
 * method. Guardrails are estimated the same way; the decision policy turns them into
 * non-inferiority tests against their margins.
 */
import type { ExperimentSpec } from "../spec/schema.ts";
import { cupedTestWithMissing } from "../stats/cuped.ts";
import type { Direction } from "../stats/decision.ts";
import type { EffectEstimate } from "../stats/effect.ts";
import { twoProportionZTest } from "../stats/proportions.ts";
import { ratioDeltaTest, ratioEstimate } from "../stats/ratio.ts";
import { welchTTest } from "../stats/welch.ts";
import {
  type ArmSummary,
  type DataRequest,
  type FieldPair,
  type FieldRef,
  fieldKey,
  pairKey,
} from "./data-summary.ts";

export interface MetricDef {
  name: string;
  role: "primary" | "secondary" | "guardrail";
  kind: "binary" | "continuous" | "ratio";
  direction: Direction;
  covariate?: string;
  numerator?: string;
  denominator?: string;
  /** Guardrails: tolerated relative regression (spec `relativeMax`). */
  relativeMargin?: number;
  /** Guardrails: absolute ceiling (`max`) or floor (`min`) on the treatment's value. */
  ceiling?: number;
  floor?: number;
  minSamples: number;
}

export interface ArmStats {
  n: number;
  mean: number | null;
}

export interface MetricEstimate {
  method: string;
  control: ArmStats;
  treatment: ArmStats;
  estimate: EffectEstimate | undefined;
  /** The treatment's own level and its standard error, for absolute ceilings and floors. */
  treatmentLevel?: { mean: number; se: number };
  varianceReduction?: number;
  /** Why the metric could not be tested, when it could not. */
  note?: string;
}

/** Every metric the spec names, with the role, kind and direction the tests need. */
export function metricDefs(spec: ExperimentSpec): MetricDef[] {
  const declared = new Map([...spec.metrics.primary, ...spec.metrics.secondary].map((m) => [m.name, m]));
  const outcome =
    (role: "primary" | "secondary") =>
    (m: ExperimentSpec["metrics"]["primary"][number]): MetricDef => ({
      name: m.name,
      role,
      kind: m.kind,
      direction: m.direction,
      ...(m.covariate ? { covariate: m.covariate } : {}),
      ...(m.numerator ? { numerator: m.numerator } : {}),
      ...(m.denominator ? { denominator: m.denominator } : {}),
      minSamples: 0,
    });
  const guardrails = spec.metrics.guardrails.map((g): MetricDef => {
    const base = declared.get(g.name);
    return {
      ...(base
        ? outcome("secondary")(base)
        : { name: g.name, kind: "continuous" as const, direction: "decrease" as const }),
      role: "guardrail",
      ...(g.relativeMax !== undefined ? { relativeMargin: g.relativeMax } : {}),
      ...(g.max !== undefined ? { ceiling: g.max } : {}),
      ...(g.min !== undefined ? { floor: g.min } : {}),
      minSamples: g.minSamples,
    };
  });
  return [
    ...spec.metrics.primary.map(outcome("primary")),
    ...spec.metrics.secondary.map(outcome("secondary")),
    ...guardrails,
  ];
}

const metric = (name: string): FieldRef => ({ kind: "metric", name });

function fieldsOf(def: MetricDef): { fields: FieldRef[]; pairs: FieldPair[] } {
  if (def.kind === "ratio") {
    const pair = { a: metric(def.numerator!), b: metric(def.denominator!) };
    return { fields: [pair.a, pair.b], pairs: [pair] };
  }
  if (def.covariate) {
    const pair = { a: metric(def.name), b: { kind: "pre" as const, name: def.covariate } };
    return { fields: [pair.a, pair.b], pairs: [pair] };
  }
  return { fields: [metric(def.name)], pairs: [] };
}

/** The fields, pairs and checks the aggregation must produce for these metrics. */
export function buildRequest(spec: ExperimentSpec, defs: MetricDef[], variants: string[]): DataRequest {
  const fields = new Map<string, FieldRef>();
  const pairs = new Map<string, FieldPair>();
  for (const def of defs) {
    const need = fieldsOf(def);
    for (const f of need.fields) fields.set(fieldKey(f), f);
    for (const p of need.pairs) pairs.set(pairKey(p), p);
  }
  return {
    variants,
    fields: [...fields.values()],
    pairs: [...pairs.values()],
    binary: defs.filter((d) => d.kind === "binary").map((d) => d.name),
    segmentFields: spec.metrics.primary.filter((m) => m.kind !== "ratio").map((m) => m.name),
  };
}

/** Estimates one metric at `alpha` (guardrails are passed 2·alpha: one-sided bounds). */
export function estimate(def: MetricDef, c: ArmSummary, t: ArmSummary, alpha: number): MetricEstimate {
  const need = fieldsOf(def);
  const pair = need.pairs[0];
  const stats = (arm: ArmSummary): ArmStats => {
    if (def.kind === "ratio") {
      const p = arm.pairs[pairKey(pair!)];
      return { n: p?.n ?? 0, mean: p && p.n > 0 ? p.meanA / p.meanB : null };
    }
    const f = arm.fields[fieldKey(metric(def.name))];
    return { n: f?.n ?? 0, mean: f && f.n > 0 ? f.mean : null };
  };
  const meanOf = (arm: ArmSummary) => {
    const f = arm.fields[fieldKey(metric(def.name))]!;
    return { n: f.n, mean: f.mean, variance: f.variance };
  };
  const out: MetricEstimate = {
    method: methodName(def),
    control: stats(c),
    treatment: stats(t),
    estimate: undefined,
  };
  out.treatmentLevel = levelOf(def, t, pair);
  if (out.control.n < 2 || out.treatment.n < 2) {
    out.note = `too few observations (control ${out.control.n}, treatment ${out.treatment.n})`;
    return out;
  }
  try {
    if (
      def.kind === "binary" &&
      out.control.mean === out.treatment.mean &&
      (out.control.mean === 0 || out.control.mean === 1)
    ) {
      // Every unit failed (or succeeded) in both arms: no variance to test against (statsmodels gives nan).
      out.note = `no variation: every unit in both arms has ${def.name} = ${out.control.mean}`;
    } else if (def.kind === "binary") {
      const arm = (s: ArmStats) => ({ n: s.n, successes: Math.round(s.mean! * s.n) });
      out.estimate = twoProportionZTest(arm(out.control), arm(out.treatment), { alpha });
    } else if (def.kind === "ratio") {
      const ratio = (arm: ArmSummary) => {
        const p = arm.pairs[pairKey(pair!)]!;
        return {
          n: p.n,
          meanNumerator: p.meanA,
          meanDenominator: p.meanB,
          varNumerator: p.varA,
          varDenominator: p.varB,
          covariance: p.cov,
        };
      };
      out.estimate = ratioDeltaTest(ratio(c), ratio(t), { alpha });
    } else if (pair && Math.min(c.pairs[pairKey(pair)]?.n ?? 0, t.pairs[pairKey(pair)]?.n ?? 0) < 2) {
      // No pre-period values (e.g. the router's event log): the unadjusted test, and say so.
      out.estimate = welchTTest(meanOf(c), meanOf(t), { alpha });
      out.method = "Welch t-test (no pre-period data for CUPED)";
    } else if (pair) {
      const cov = (arm: ArmSummary) => {
        const p = arm.pairs[pairKey(pair)]!;
        return { n: p.n, meanY: p.meanA, meanX: p.meanB, varY: p.varA, varX: p.varB, covXY: p.cov };
      };
      const result = cupedTestWithMissing(
        { all: meanOf(c), paired: cov(c) },
        { all: meanOf(t), paired: cov(t) },
        { alpha },
      );
      const imputed = meanOf(c).n + meanOf(t).n - cov(c).n - cov(t).n;
      if (imputed > 0) out.method = `${out.method} (${imputed} units without it given its mean)`;
      out.estimate = result;
      out.varianceReduction = result.varianceReduction;
    } else {
      out.estimate = welchTTest(meanOf(c), meanOf(t), { alpha });
    }
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    out.note = error.message;
  }
  return out;
}

function methodName(def: MetricDef): string {
  if (def.kind === "binary") return "two-proportion z-test";
  if (def.kind === "ratio") return "delta-method ratio test";
  return def.covariate ? `Welch t-test, CUPED on pre.${def.covariate}` : "Welch t-test";
}

/** An arm's mean (ratio of means for ratio metrics) and its standard error. */
function levelOf(
  def: MetricDef,
  arm: ArmSummary,
  pair: FieldPair | undefined,
): { mean: number; se: number } | undefined {
  if (def.kind === "ratio") {
    const p = pair ? arm.pairs[pairKey(pair)] : undefined;
    if (!p || p.n < 2 || p.meanB === 0) return undefined;
    const r = ratioEstimate({
      n: p.n,
      meanNumerator: p.meanA,
      meanDenominator: p.meanB,
      varNumerator: p.varA,
      varDenominator: p.varB,
      covariance: p.cov,
    });
    return { mean: r.ratio, se: Math.sqrt(r.variance) };
  }
  const f = arm.fields[fieldKey(metric(def.name))];
  if (!f || f.n < 2) return undefined;
  return { mean: f.mean, se: Math.sqrt(f.variance / f.n) };
}
