/**
 * From a spec and a unit-level data file to the verdict: aggregate with DuckDB, check the split
 * of all arms (SRM), compare each treatment with control (analysis/comparison.ts: the metric
 * tests, phase stratification, guardrails, the sequential look, the decision policy), and with
 * several treatments combine the comparisons into one decision (analysis/overall-verdict.ts).
 *
 * A/B/n: each of the k treatments is compared with control at alpha / k, the Bonferroni split the
 * plan sized (analysis/plan.ts), so the analysis tests what was sized; within a comparison the
 * spec's own correction applies as in an A/B test. Reported adjusted p-values are the
 * within-comparison ones × k (capped at 1), so they read against the spec's alpha.
 */
import type { ExperimentSpec } from "../spec/schema.ts";
import type { Decision } from "../stats/decision.ts";
import type { SrmResult } from "../stats/srm.ts";
import { aggregateData } from "./aggregate.ts";
import { splitCheckAllArms } from "./arm-split.ts";
import { type ComparisonReport, compareArms, type MetricReport, type ProgressReport } from "./comparison.ts";
import { type DataFormat, detectFormat } from "./data-format.ts";
import type { DataSummary } from "./data-summary.ts";
import { DataError } from "./locate-errors.ts";
import { buildRequest, metricDefs } from "./metric-tests.ts";
import { bonferroniAcross, overallDecision } from "./overall-verdict.ts";
import { type ExperimentPlan, planExperiment } from "./plan.ts";
import type { SegmentFinding } from "./segments.ts";
import { controlVariant, treatmentVariants } from "./variants.ts";

export type { ComparisonReport, MetricReport, ProgressReport };

/**
 * The analysis. The top-level `treatment`, `progress`, `metrics`, `guardrails` and `segments`
 * are one comparison's: the only one in an A/B test; with several treatments, the one the
 * overall verdict is about (the shipped treatment, or the one with the most pressing verdict).
 * `comparisons` holds every treatment's.
 */
export interface AnalysisReport {
  experiment: string;
  control: string;
  treatment: string;
  verdict: Decision["verdict"];
  reasons: string[];
  /** `[control, ...treatments]` in spec order: the order of `srm.observed` and `srm.expected`. */
  arms: string[];
  srm: SrmResult;
  /** Per allocation phase when the data records phases (a ramp); the verdict reads the combined test. */
  srmPhases: (SrmResult & { label: string })[];
  progress: ProgressReport;
  metrics: MetricReport[];
  guardrails: Decision["guardrails"];
  segments: SegmentFinding[];
  /** One per treatment, in spec order, adjusted p-values already × k. */
  comparisons: ComparisonReport[];
  /** Bonferroni over the k treatment-vs-control comparisons (k = 1: no correction). */
  correction: { comparisons: number; alphaPerComparison: number };
  plan: ExperimentPlan;
  data: Pick<DataSummary, "file" | "rows">;
}

export interface AnalyzeOptions {
  format?: string;
  /** 1-based registered look this analysis is; default: the last look the data has reached. */
  look?: number;
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
  if (spec.rollout.mode === "bandit") {
    // A fixed-split analysis of adaptive data would test SRM against stripes the bandit never used
    // and read biased plain means: bandit-analysis.ts weights by the logged propensities instead.
    throw new RangeError(
      "rollout.mode is bandit: its allocation adapts, so use runBanditAnalysis (analysis/bandit-analysis.ts), which weights units by their logged propensities",
    );
  }
  const control = controlVariant(spec);
  const treatments = treatmentVariants(spec);
  const format: DataFormat = detectFormat(dataPath, opts.format);
  const plan = planExperiment(spec);
  const defs = metricDefs(spec);
  const data = await aggregateData(dataPath, format, buildRequest(spec, defs, [control, ...treatments]));
  if (data.rows === 0) {
    throw new DataError(
      [{ file: dataPath, line: 0, message: "holds no records: nothing to analyze yet" }],
      1,
    );
  }
  const { srm, srmPhases } = splitCheckAllArms(spec, data, control, treatments);

  const k = treatments.length;
  const context = { plan, srm, ...(opts.look === undefined ? {} : { look: opts.look }) };
  const comparisons = treatments.map((treatment) =>
    bonferroniAcross(compareArms(spec, data, control, treatment, plan.comparisonAlpha, context), k),
  );
  const first = spec.metrics.primary[0]!;
  const overall = overallDecision(comparisons, first, spec.analysis.alpha);
  const { chosen } = overall;
  return {
    experiment: spec.name,
    control,
    treatment: chosen.treatment,
    verdict: overall.verdict,
    reasons: overall.reasons,
    arms: [control, ...treatments],
    srm,
    srmPhases,
    progress: chosen.progress,
    metrics: chosen.metrics,
    guardrails: chosen.guardrails,
    segments: chosen.segments,
    comparisons,
    correction: { comparisons: k, alphaPerComparison: plan.comparisonAlpha },
    plan,
    data: { file: data.file, rows: data.rows },
  };
}
