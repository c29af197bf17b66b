/**
 * One treatment against control: each metric tested the way its kind asks, stratified by
 * allocation phase, placed on the plan (fixed horizon or a registered sequential look), and handed
 * to the decision policy at the comparison's alpha. An A/B test is one comparison; an A/B/n test
 * is one per treatment, each at alpha / k (analysis/overall-verdict.ts combines them).
 */
import { guardrailMetric } from "../spec/guardrail-metrics.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import { chanceToBeatControl } from "../stats/bayes.ts";
import { type Decision, decide, type Verdict } from "../stats/decision.ts";
import { normQuantile } from "../stats/distributions.ts";
import { stratifiedTest } from "../stats/stratified.ts";
import { type DataSummary, fieldKey } from "./data-summary.ts";
import { type ArmStats, estimate, type MetricDef, type MetricEstimate, metricDefs } from "./metric-tests.ts";
import type { ExperimentPlan } from "./plan.ts";
import { informationFraction, progressOf } from "./progress.ts";
import { type SegmentFinding, simpsonFindings } from "./segments.ts";
import { missingnessChecks, type SplitCheck } from "./split-checks.ts";

export interface MetricReport {
  name: string;
  role: MetricDef["role"];
  kind: MetricDef["kind"];
  method: string;
  control: ArmStats;
  treatment: ArmStats;
  effect: number | null;
  relativeLift: number | null;
  ci: [number, number] | null;
  relativeCi: [number, number] | null;
  pValue: number | null;
  adjustedPValue: number | null;
  status: string;
  /** Binary primary metrics: posterior P(treatment > control) under a uniform prior. */
  chanceToBeatControl?: number;
  /** CUPED: variance removed by the pre-period covariate. */
  varianceReduction?: number;
  /** Why the metric could not be tested, when it could not. */
  note?: string;
}

/** Where one comparison stands on the plan. */
export interface ProgressReport {
  kind: "fixed" | "sequential";
  informationFraction: number;
  look: number | null;
  looks: number[];
  /** The |z| boundary this look was held to (at the observed information); null for fixed designs. */
  boundary: number | null;
}

/** The verdict of one treatment against control, with the evidence behind it. */
export interface ComparisonReport {
  treatment: string;
  /** The level this comparison was tested at (alpha / k in an A/B/n test). */
  alpha: number;
  verdict: Verdict;
  reasons: string[];
  progress: ProgressReport;
  metrics: MetricReport[];
  guardrails: Decision["guardrails"];
  segments: SegmentFinding[];
}

/** What every comparison of one analysis shares. */
export interface ComparisonContext {
  /** Sizes each comparison's information against; its sequential design must be at the comparison's alpha. */
  plan: ExperimentPlan;
  /** The split check over all arms: an alarm holds every comparison. */
  srm: SplitCheck["srm"];
  /** 1-based registered look; default: the last look this comparison's data has reached. */
  look?: number;
}

/**
 * With several allocation phases, a mean or rate is compared inside each phase and the phase
 * effects combined (stats/stratified.ts); pooling would be biased whenever the outcome drifts
 * between phases. CUPED and ratio metrics stay pooled, and say so.
 */
function stratifyByPhase(
  def: MetricDef,
  pooled: MetricEstimate,
  data: DataSummary,
  control: string,
  treatment: string,
  alpha: number,
): MetricEstimate {
  if (data.phases.length < 2 || pooled.estimate === undefined) return pooled;
  if (def.kind === "ratio" || def.covariate) {
    return { ...pooled, method: `${pooled.method}, pooled across ${data.phases.length} allocation phases` };
  }
  const key = fieldKey({ kind: "metric", name: def.name });
  const empty = { n: 0, mean: 0, variance: 0 };
  const strata = data.phases.map((p) => ({
    label: `${p.percent} %`,
    control: p.arms[control]?.fields[key] ?? empty,
    treatment: p.arms[treatment]?.fields[key] ?? empty,
  }));
  try {
    const estimate = stratifiedTest(strata, { alpha });
    return {
      ...pooled,
      estimate,
      method: `difference in means stratified by ${estimate.strata.length} allocation phases`,
    };
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return { ...pooled, note: error.message };
  }
}

/**
 * At a sequential look the primary interval is the repeated confidence interval (Jennison &
 * Turnbull ch. 9): effect ± boundary·se, which excludes 0 exactly when the look rejects.
 */
function repeatedCi(e: { effect: number; se: number }, boundary: number): [number, number] {
  return [e.effect - boundary * e.se, e.effect + boundary * e.se];
}

/** The guardrail's absolute limit with the treatment's one-sided bounds (z·se either side). */
function ceilingOf(def: MetricDef, result: MetricEstimate, z: number) {
  const limit = def.ceiling ?? def.floor;
  const level = result.treatmentLevel;
  if (limit === undefined || level === undefined || result.control.mean === null) return {};
  const ceiling = {
    limit,
    side: def.ceiling !== undefined ? ("max" as const) : ("min" as const),
    treatmentLo: level.mean - z * level.se,
    treatmentHi: level.mean + z * level.se,
    controlMean: result.control.mean,
  };
  return { ceiling };
}

/** Binary primaries: posterior P(better than control) under Beta(1, 1), in the metric's good direction. */
function chanceToBeat(def: MetricDef, result: MetricEstimate): number | undefined {
  if (def.kind !== "binary" || def.role !== "primary" || result.estimate === undefined) return undefined;
  const arm = (s: ArmStats) => ({ n: s.n, successes: Math.round(s.mean! * s.n) });
  const chance = chanceToBeatControl(arm(result.control), arm(result.treatment));
  return def.direction === "decrease" ? 1 - chance : chance;
}

/**
 * Compares `treatment` with `control` at `alpha`: every metric of the spec (guardrails as
 * one-sided bounds at alpha, so estimated at 2·alpha), the spec's own correction across its
 * secondary metrics, the sequential boundary at this comparison's observed information, and the
 * decision policy's verdict. Adjusted p-values are within this comparison.
 */
export function compareArms(
  spec: ExperimentSpec,
  data: DataSummary,
  control: string,
  treatment: string,
  alpha: number,
  context: ComparisonContext,
): ComparisonReport {
  const { plan, srm } = context;
  const defs = metricDefs(spec);
  const arm = (name: string) => data.arms[name] ?? { units: 0, fields: {}, pairs: {} };
  const armC = arm(control);
  const armT = arm(treatment);
  const tested = defs.map((def) => {
    const level = def.role === "guardrail" ? 2 * alpha : alpha;
    return {
      def,
      result: stratifyByPhase(def, estimate(def, armC, armT, level), data, control, treatment, level),
    };
  });
  const evidence = (role: MetricDef["role"]) => tested.filter((t) => t.def.role === role);
  const primaries = evidence("primary").map(({ def, result }) => ({ name: def.name, ...result }));
  const fraction = informationFraction(plan, new Map(primaries.map((m) => [m.name, m])));
  const progress = progressOf(plan, fraction, context.look);
  // One-sided (1 − alpha) bounds on the treatment's own level, for ceilings and floors.
  const z = normQuantile(1 - alpha);
  const outcome = ({ def, result }: (typeof tested)[number]) => ({
    name: def.name,
    direction: def.direction,
    estimate: result.estimate,
  });
  const decision = decide({
    alpha,
    correction: spec.analysis.correction,
    srm: { pValue: srm.pValue, alarm: srm.alarm, ...(srm.reason ? { reason: srm.reason } : {}) },
    missingness: missingnessChecks(spec, { control: armC.units, treatment: armT.units }, primaries),
    progress,
    primary: evidence("primary").map(outcome),
    secondary: evidence("secondary").map(outcome),
    guardrails: evidence("guardrail").map(({ def, result }) => ({
      name: def.name,
      direction: def.direction,
      ...(def.relativeMargin !== undefined ? { relativeMargin: def.relativeMargin } : {}),
      ...ceilingOf(def, result, z),
      estimate: result.estimate,
      minSamples: def.minSamples,
      samples: Math.min(result.control.n, result.treatment.n),
      liveOnly: result.estimate === undefined && guardrailMetric(def.name) !== undefined,
    })),
  });

  const seqBoundary =
    progress.kind === "sequential" && progress.lookIndex !== null
      ? (progress.boundary ?? progress.design.boundaries[progress.lookIndex] ?? null)
      : null;
  const metrics = tested.map(({ def, result }): MetricReport => {
    const judged = decision.metrics.find((m) => m.name === def.name && m.role === def.role);
    const guard = decision.guardrails.find((g) => g.name === def.name);
    const e = result.estimate;
    const report: MetricReport = {
      name: def.name,
      role: def.role,
      kind: def.kind,
      method: result.method,
      control: result.control,
      treatment: result.treatment,
      effect: e?.effect ?? null,
      relativeLift: e && Number.isFinite(e.relativeLift) ? e.relativeLift : null,
      ci: e ? (def.role === "primary" && seqBoundary !== null ? repeatedCi(e, seqBoundary) : e.ci) : null,
      relativeCi: e && Number.isFinite(e.relativeCi[0]) ? e.relativeCi : null,
      // A guardrail is a non-inferiority test: its superiority p-value would mislead, so it reports
      // the bound on its bad side against the margin instead.
      pValue: def.role === "guardrail" ? null : (e?.pValue ?? null),
      adjustedPValue: def.role === "guardrail" ? null : (judged?.adjustedPValue ?? e?.pValue ?? null),
      status: judged?.status ?? guard?.status ?? "no data",
    };
    if (result.varianceReduction !== undefined) report.varianceReduction = result.varianceReduction;
    if (result.note !== undefined) report.note = result.note;
    const chance = chanceToBeat(def, result);
    if (chance !== undefined) report.chanceToBeatControl = chance;
    return report;
  });

  return {
    treatment,
    alpha,
    verdict: decision.verdict,
    reasons: decision.reasons,
    progress: {
      kind: progress.kind,
      informationFraction: fraction,
      look: progress.kind === "sequential" && progress.lookIndex !== null ? progress.lookIndex + 1 : null,
      looks: plan.sequential?.looks ?? [1],
      boundary: seqBoundary,
    },
    metrics,
    guardrails: decision.guardrails,
    segments: simpsonFindings(data, defs, control, treatment),
  };
}
