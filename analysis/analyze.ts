/**
 * From a spec and a unit-level data file to the verdict: aggregate with DuckDB, test each metric
 * the way its kind asks (two-proportion z, Welch, delta-method ratio, CUPED), check the split
 * (SRM) and the segment mix (Simpson), place the analysis on the plan (fixed horizon or a
 * registered sequential look), and hand the evidence to the decision policy.
 */
import { guardrailMetric } from "../spec/guardrail-metrics.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import { chanceToBeatControl } from "../stats/bayes.ts";
import { type Decision, decide } from "../stats/decision.ts";
import { normQuantile } from "../stats/distributions.ts";
import type { SrmResult } from "../stats/srm.ts";
import { stratifiedTest } from "../stats/stratified.ts";
import { aggregateData } from "./aggregate.ts";
import { type DataFormat, detectFormat } from "./data-format.ts";
import { type DataSummary, fieldKey } from "./data-summary.ts";
import { DataError } from "./locate-errors.ts";
import {
  type ArmStats,
  buildRequest,
  estimate,
  type MetricDef,
  type MetricEstimate,
  metricDefs,
} from "./metric-tests.ts";
import { type ExperimentPlan, planExperiment } from "./plan.ts";
import { informationFraction, progressOf } from "./progress.ts";
import { type SegmentFinding, simpsonFindings } from "./segments.ts";
import { missingnessChecks, splitCheck } from "./split-checks.ts";
import { controlVariant, treatmentVariants } from "./variants.ts";

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

export interface AnalysisReport {
  experiment: string;
  control: string;
  treatment: string;
  verdict: Decision["verdict"];
  reasons: string[];
  srm: SrmResult;
  /** Per allocation phase when the data records phases (a ramp); the verdict reads the combined test. */
  srmPhases: (SrmResult & { label: string })[];
  progress: {
    kind: "fixed" | "sequential";
    informationFraction: number;
    look: number | null;
    looks: number[];
    /** The |z| boundary this look was held to (at the observed information); null for fixed designs. */
    boundary: number | null;
  };
  metrics: MetricReport[];
  guardrails: Decision["guardrails"];
  segments: SegmentFinding[];
  plan: ExperimentPlan;
  data: Pick<DataSummary, "file" | "rows">;
}

export interface AnalyzeOptions {
  format?: string;
  /** 1-based registered look this analysis is; default: the last look the data has reached. */
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

export async function runAnalysis(
  spec: ExperimentSpec,
  dataPath: string,
  opts: AnalyzeOptions = {},
): Promise<AnalysisReport> {
  if (spec.rollout.mode === "shadow") {
    throw new RangeError(
      "rollout.mode is shadow: users only ever get control, so there is no treatment arm to analyze",
    );
  }
  const control = controlVariant(spec);
  const treatments = treatmentVariants(spec);
  if (treatments.length !== 1) {
    throw new RangeError(
      `variants: analyze compares one treatment with control; this spec has ${treatments.length} treatments, and A/B/n is not supported yet`,
    );
  }
  const treatment = treatments[0]!;
  const format: DataFormat = detectFormat(dataPath, opts.format);
  const plan = planExperiment(spec);
  const defs = metricDefs(spec);
  const data = await aggregateData(dataPath, format, buildRequest(spec, defs, [control, treatment]));
  const arm = (name: string) => data.arms[name] ?? { units: 0, fields: {}, pairs: {} };
  const armC = arm(control);
  const armT = arm(treatment);

  if (data.rows === 0) {
    throw new DataError(
      [{ file: dataPath, line: 0, message: "holds no records: nothing to analyze yet" }],
      1,
    );
  }
  const { srm, srmPhases } = splitCheck(spec, data, control, treatment);

  const alpha = spec.analysis.alpha;
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
  const progress = progressOf(plan, fraction, opts.look);
  // One-sided (1 − alpha) bounds on the treatment's own level, for ceilings and floors.
  const z = normQuantile(1 - alpha);
  const decision = decide({
    alpha,
    correction: spec.analysis.correction,
    srm: { pValue: srm.pValue, alarm: srm.alarm, ...(srm.reason ? { reason: srm.reason } : {}) },
    missingness: missingnessChecks(spec, { control: armC.units, treatment: armT.units }, primaries),
    progress,
    primary: evidence("primary").map(({ def, result }) => ({
      name: def.name,
      direction: def.direction,
      estimate: result.estimate,
    })),
    secondary: evidence("secondary").map(({ def, result }) => ({
      name: def.name,
      direction: def.direction,
      estimate: result.estimate,
    })),
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
    if (def.kind === "binary" && def.role === "primary" && result.estimate !== undefined) {
      report.chanceToBeatControl = chanceToBeatControl(
        { n: result.control.n, successes: Math.round(result.control.mean! * result.control.n) },
        { n: result.treatment.n, successes: Math.round(result.treatment.mean! * result.treatment.n) },
      );
      if (def.direction === "decrease") report.chanceToBeatControl = 1 - report.chanceToBeatControl;
    }
    return report;
  });

  const seqLook = progress.kind === "sequential" ? progress.lookIndex : null;
  return {
    experiment: spec.name,
    control,
    treatment,
    verdict: decision.verdict,
    reasons: decision.reasons,
    srm,
    srmPhases,
    progress: {
      kind: progress.kind,
      informationFraction: fraction,
      look: seqLook === null ? null : seqLook + 1,
      looks: plan.sequential?.looks ?? [1],
      boundary:
        progress.kind === "sequential" && progress.lookIndex !== null
          ? (progress.boundary ?? progress.design.boundaries[progress.lookIndex] ?? null)
          : null,
    },
    metrics,
    guardrails: decision.guardrails,
    segments: simpsonFindings(data, defs, control, treatment),
    plan,
    data: { file: data.file, rows: data.rows },
  };
}
