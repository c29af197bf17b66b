/**
 * From a spec and a unit-level data file to the verdict: aggregate with DuckDB, test each metric
 * the way its kind asks (two-proportion z, Welch, delta-method ratio, CUPED), check the split
 * (SRM) and the segment mix (Simpson), place the analysis on the plan (fixed horizon or a
 * registered sequential look), and hand the evidence to the decision policy.
 */
import { guardrailMetric } from "../spec/guardrail-metrics.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import { chanceToBeatControl } from "../stats/bayes.ts";
import { type Decision, decide, type Progress } from "../stats/decision.ts";
import { type SrmResult, srmTest, srmTestByPhase } from "../stats/srm.ts";
import { stratifiedTest } from "../stats/stratified.ts";
import { aggregateData } from "./aggregate.ts";
import { type DataFormat, detectFormat } from "./data-format.ts";
import { type DataSummary, fieldKey } from "./data-summary.ts";
import {
  type ArmStats,
  absoluteMarginOf,
  buildRequest,
  estimate,
  type MetricDef,
  type MetricEstimate,
  metricDefs,
} from "./metric-tests.ts";
import { type ExperimentPlan, planExperiment } from "./plan.ts";
import { type SegmentFinding, simpsonFindings } from "./segments.ts";
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

/** Registered looks are matched with this slack: a look at 24.5 % of plan counts as the 25 % look. */
const LOOK_TOLERANCE = 0.02;

function progressOf(plan: ExperimentPlan, fraction: number, look: number | undefined): Progress {
  if (!plan.sequential) return { kind: "fixed", fraction };
  const looks = plan.sequential.looks;
  if (look !== undefined) {
    if (!Number.isInteger(look) || look < 1 || look > looks.length) {
      throw new RangeError(
        `--look ${look}: not a registered look (registered: 1..${looks.length} at ${looks.join(", ")})`,
      );
    }
    return { kind: "sequential", design: plan.sequential, lookIndex: look - 1 };
  }
  let reached: number | null = null;
  looks.forEach((t, i) => {
    if (fraction + LOOK_TOLERANCE >= t) reached = i;
  });
  return { kind: "sequential", design: plan.sequential, lookIndex: reached };
}

/**
 * SRM against the allocation each unit was assigned under: per phase when the data records phases
 * (a ramp's phases must never be pooled), else against the spec's current percent.
 */
function splitCheck(spec: ExperimentSpec, data: DataSummary, control: string, treatment: string) {
  const threshold = spec.analysis.srmThreshold;
  const units = (arms: Record<string, { units: number }>) => [
    arms[control]?.units ?? 0,
    arms[treatment]?.units ?? 0,
  ];
  if (data.phases.length === 0) {
    const share = spec.rollout.treatmentPercent / 100;
    return { srm: srmTest(units(data.arms), [1 - share, share], { threshold }), srmPhases: [] };
  }
  const phased = srmTestByPhase(
    data.phases.map((p) => ({
      label: `${p.percent} %`,
      expectedShares: [100 - p.percent, p.percent],
      observed: units(p.arms),
    })),
    { threshold },
  );
  return { srm: phased.combined, srmPhases: phased.phases };
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

function marginOf(def: MetricDef, controlMean: number | null): { absoluteMargin?: number } {
  const margin = absoluteMarginOf(def, controlMean);
  return margin === undefined ? {} : { absoluteMargin: margin };
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
      `variants: analyze compares one treatment with control; this spec has ${treatments.length}`,
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

  const { srm, srmPhases } = splitCheck(spec, data, control, treatment);
  const fraction = Math.min(
    ...plan.metrics.map((m) => Math.min(armC.units / m.max.control, armT.units / m.max.treatment)),
  );
  const progress = progressOf(plan, fraction, opts.look);

  const alpha = spec.analysis.alpha;
  const tested = defs.map((def) => {
    const level = def.role === "guardrail" ? 2 * alpha : alpha;
    return {
      def,
      result: stratifyByPhase(def, estimate(def, armC, armT, level), data, control, treatment, level),
    };
  });
  const evidence = (role: MetricDef["role"]) => tested.filter((t) => t.def.role === role);
  const decision = decide({
    alpha,
    correction: spec.analysis.correction,
    srm: { pValue: srm.pValue, alarm: srm.alarm },
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
      ...marginOf(def, result.control.mean),
      estimate: result.estimate,
      minSamples: def.minSamples,
      samples: Math.min(result.control.n, result.treatment.n),
      liveOnly: result.estimate === undefined && guardrailMetric(def.name) !== undefined,
    })),
  });

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
      ci: e ? e.ci : null,
      relativeCi: e && Number.isFinite(e.relativeCi[0]) ? e.relativeCi : null,
      pValue: e?.pValue ?? null,
      adjustedPValue: judged?.adjustedPValue ?? e?.pValue ?? null,
      status: judged?.status ?? guard?.status ?? "no data",
    };
    if (result.varianceReduction !== undefined) report.varianceReduction = result.varianceReduction;
    if (result.note !== undefined) report.note = result.note;
    if (def.kind === "binary" && def.role === "primary" && result.control.n > 0 && result.treatment.n > 0) {
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
    },
    metrics,
    guardrails: decision.guardrails,
    segments: simpsonFindings(data, defs, control, treatment),
    plan,
    data: { file: data.file, rows: data.rows },
  };
}
