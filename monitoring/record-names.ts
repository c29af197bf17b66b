/**
 * Names of the recorded series, `level:metric:operations` (Prometheus naming guide,
 * kubernetes-mixin): the level lists the labels the series keeps, the metric is the router metric
 * it derives from, the operations say what was done, window included:
 * `experiment_variant_replica_state:llmab_ttft_seconds:p95_rate5m`.
 */
import { numberLiteral } from "./promql.ts";

/** Aggregation levels: which labels a recorded series keeps. */
export type Level = "experiment" | "experiment_variant" | "experiment_variant_replica_state";

/** The labels each level keeps, in the order `by (...)` lists them. */
export const levelLabels: Readonly<Record<Level, readonly string[]>> = {
  experiment: ["experiment"],
  experiment_variant: ["experiment", "variant"],
  experiment_variant_replica_state: ["experiment", "variant", "replica_state"],
};

/** `p50`, `p95`, `p99` (`p99_9` for 0.999). */
export function quantileLabel(quantile: number): string {
  return `p${numberLiteral(quantile * 100).replace(".", "_")}`;
}

/** Per-bucket rate of a latency histogram, kept per `le` for `histogram_quantile`. */
export function bucketRateRecord(histogram: string, level: Level, window: string): string {
  return `${level}_le:${histogram}_bucket:rate${window}`;
}

/** Observations of a latency histogram in the window: the sample size of its quantiles. */
export function countIncreaseRecord(histogram: string, level: Level, window: string): string {
  return `${level}:${histogram}_count:increase${window}`;
}

/** A quantile of a latency histogram over the window. */
export function quantileRecord(histogram: string, level: Level, quantile: number, window: string): string {
  return `${level}:${histogram}:${quantileLabel(quantile)}_rate${window}`;
}

/** Per-variant rate of a counter; `base` is its name without `_total` (`llmab_requests`). */
export function counterRateRecord(base: string, window: string): string {
  return `experiment_variant:${base}:rate${window}`;
}

/** Per-variant increase of a counter over the window: a sample size. */
export function counterIncreaseRecord(base: string, window: string): string {
  return `experiment_variant:${base}:increase${window}`;
}

/** A built-in ratio guardrail metric (`error_rate`, `cost_per_session_usd`, …) per variant. */
export function ratioRecord(guardrailMetric: string, window: string): string {
  return `experiment_variant:llmab_${guardrailMetric}:ratio_rate${window}`;
}

/** Mean of an outcome (binary or continuous metric) per variant: sum of values over observations. */
export function outcomeMeanRecord(metric: string, window: string): string {
  return `experiment_variant:llmab_outcome_${metric}:mean_rate${window}`;
}

/** A ratio outcome metric per variant: its numerator field's sum over its denominator field's sum. */
export function outcomeRatioRecord(metric: string, window: string): string {
  return `experiment_variant:llmab_outcome_${metric}:ratio_rate${window}`;
}

/** Outcome events of one field in the window: the sample size of outcome guardrails. */
export function outcomeObservationsRecord(field: string, window: string): string {
  return `experiment_variant:llmab_outcome_${field}_observations:increase${window}`;
}

/** Each treatment's value of a recorded series divided by the control's. */
export function overControlRecord(record: string): string {
  return `${record}_over_control`;
}

/** The configured share of new units per treatment variant, one value however many routers report it. */
export const TREATMENT_FRACTION_RECORD = "experiment_variant:llmab_treatment_fraction:max";

/** The metric name a counter's recorded series use: `llmab_requests_total` → `llmab_requests`. */
export function counterBase(metric: string): string {
  return metric.replace(/_total$/, "");
}
