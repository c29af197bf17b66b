/**
 * Recording rules of one experiment: per experiment × variant × replica_state latency quantiles,
 * per variant rates and ratios, the outcome values outcome guardrails read, and every guardrail's
 * treatment ÷ control ratio. The SRM series are in srm-rules.ts.
 *
 * Every selector names the experiment, so rule files of two experiments loaded into one Prometheus
 * never write the same series. Ratios sum numerator and denominator separately, then divide.
 */
import { guardrailMetrics, type SeriesRef } from "../spec/guardrail-metrics.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import { controlMatchers, experimentMatchers, treatmentMatchers } from "./arms.ts";
import type { Timing } from "./config.ts";
import {
  coldTwin,
  type GuardrailSeries,
  guardrailSeries,
  isWarmLatency,
  seriesBase,
} from "./guardrail-series.ts";
import { labelList, matcher, selector } from "./promql.ts";
import {
  bucketRateRecord,
  counterIncreaseRecord,
  counterRateRecord,
  countIncreaseRecord,
  type Level,
  levelLabels,
  outcomeObservationsRecord,
  quantileRecord,
  ratioRecord,
  TREATMENT_FRACTION_RECORD,
} from "./record-names.ts";
import type { RecordingRule } from "./rule-file.ts";

type Spec = Pick<ExperimentSpec, "name" | "variants" | "metrics">;

/** The latency histograms and quantiles the catalogue defines guardrails on, in catalogue order. */
function catalogueQuantiles(): { histograms: string[]; quantiles: number[] } {
  const histograms = new Set<string>();
  const quantiles = new Set<number>();
  for (const metric of Object.values(guardrailMetrics)) {
    if (metric.measure.kind !== "quantile") continue;
    histograms.add(metric.measure.histogram);
    quantiles.add(metric.measure.quantile);
  }
  return { histograms: [...histograms], quantiles: [...quantiles] };
}

/** `<op> by (<labels>) (<inner>)` */
function aggregate(op: "sum" | "max", labels: readonly string[], inner: string): string {
  return `${op} by ${labelList(labels)} (${inner})`;
}

function sumBy(labels: readonly string[], inner: string): string {
  return aggregate("sum", labels, inner);
}

/**
 * p50/p95/p99 of each latency histogram per replica state, and over both states (for guardrails
 * with `replicaState: any`), each with the observation count its quantiles rest on.
 */
function latencyRules(spec: Spec, window: string): RecordingRule[] {
  const { histograms, quantiles } = catalogueQuantiles();
  const own = experimentMatchers(spec);
  const rules: RecordingRule[] = [];
  const perState: Level = "experiment_variant_replica_state";
  const perVariant: Level = "experiment_variant";
  for (const histogram of histograms) {
    const stateBuckets = bucketRateRecord(histogram, perState, window);
    const variantBuckets = bucketRateRecord(histogram, perVariant, window);
    const stateCount = countIncreaseRecord(histogram, perState, window);
    rules.push(
      {
        record: stateBuckets,
        expr: sumBy(
          [...levelLabels[perState], "le"],
          `rate(${selector(`${histogram}_bucket`, own)}[${window}])`,
        ),
      },
      {
        record: stateCount,
        expr: sumBy(levelLabels[perState], `increase(${selector(`${histogram}_count`, own)}[${window}])`),
      },
      ...quantiles.map((quantile) => ({
        record: quantileRecord(histogram, perState, quantile, window),
        expr: `histogram_quantile(${quantile}, ${selector(stateBuckets, own)})`,
      })),
      {
        record: variantBuckets,
        expr: sumBy([...levelLabels[perVariant], "le"], selector(stateBuckets, own)),
      },
      {
        record: countIncreaseRecord(histogram, perVariant, window),
        expr: sumBy(levelLabels[perVariant], selector(stateCount, own)),
      },
      ...quantiles.map((quantile) => ({
        record: quantileRecord(histogram, perVariant, quantile, window),
        expr: `histogram_quantile(${quantile}, ${selector(variantBuckets, own)})`,
      })),
    );
  }
  return rules;
}

function seriesSelector(spec: Spec, ref: SeriesRef): string {
  return selector(ref.metric, [
    ...experimentMatchers(spec),
    ...(ref.matchers === undefined ? [] : [ref.matchers]),
  ]);
}

/** Rate and increase per variant of every counter a ratio divides by, requests and assignments first. */
function counterRules(spec: Spec, window: string): RecordingRule[] {
  const refs = new Map<string, SeriesRef>([
    ["llmab_requests", { metric: "llmab_requests_total" }],
    ["llmab_assignments", { metric: "llmab_assignments_total" }],
  ]);
  for (const metric of Object.values(guardrailMetrics)) {
    if (metric.measure.kind === "ratio")
      refs.set(seriesBase(metric.measure.denominator), metric.measure.denominator);
  }
  const by = levelLabels.experiment_variant;
  return [...refs].flatMap(([base, ref]) => [
    {
      record: counterRateRecord(base, window),
      expr: sumBy(by, `rate(${seriesSelector(spec, ref)}[${window}])`),
    },
    {
      record: counterIncreaseRecord(base, window),
      expr: sumBy(by, `increase(${seriesSelector(spec, ref)}[${window}])`),
    },
  ]);
}

/**
 * Every built-in ratio metric per variant (error ratio, cost per session, …). When the numerator
 * is a subset of the denominator's series (errors among requests), no numerator series means zero,
 * not unknown; a numerator from another metric (cost, tokens) that is absent stays absent.
 */
function ratioRules(spec: Spec, window: string): RecordingRule[] {
  const by = levelLabels.experiment_variant;
  const own = experimentMatchers(spec);
  const rules: RecordingRule[] = [];
  for (const [name, metric] of Object.entries(guardrailMetrics)) {
    if (metric.measure.kind !== "ratio") continue;
    const { numerator, denominator } = metric.measure;
    const denominatorRate = selector(counterRateRecord(seriesBase(denominator), window), own);
    const numeratorRate = sumBy(by, `rate(${seriesSelector(spec, numerator)}[${window}])`);
    const top =
      numerator.metric === denominator.metric
        ? `(\n  ${numeratorRate}\nor\n  0 * ${denominatorRate}\n)`
        : numeratorRate;
    rules.push({ record: ratioRecord(name, window), expr: `${top}\n/\n${denominatorRate}` });
  }
  return rules;
}

function outcomeSelector(spec: Spec, metric: string, field: string): string {
  return selector(metric, [...experimentMatchers(spec), matcher("metric", "=", field)]);
}

/** The value and sample size of an outcome guardrail. */
function outcomeRules(spec: Spec, series: GuardrailSeries, window: string): RecordingRule[] {
  const { outcome } = series;
  if (outcome === undefined) return [];
  const by = levelLabels.experiment_variant;
  const sumRate = (field: string) =>
    sumBy(by, `rate(${outcomeSelector(spec, "llmab_outcome_sum", field)}[${window}])`);
  const observations = (field: string): RecordingRule => ({
    record: outcomeObservationsRecord(field, window),
    expr: sumBy(
      by,
      `increase(${outcomeSelector(spec, "llmab_outcome_observations_total", field)}[${window}])`,
    ),
  });
  // `llmab_outcome_sum` is a gauge only so that negative values can be reported; for the
  // non-negative outcomes guardrails watch (rates, scores, counts) it grows like a counter, and
  // rate() then also survives router restarts.
  if (outcome.kind === "mean") {
    const events = sumBy(
      by,
      `rate(${outcomeSelector(spec, "llmab_outcome_observations_total", outcome.field)}[${window}])`,
    );
    return [
      observations(outcome.field),
      { record: series.value, expr: `${sumRate(outcome.field)}\n/\n${events}` },
    ];
  }
  return [
    observations(outcome.denominator),
    {
      record: series.value,
      expr: `${sumRate(outcome.numerator)}\n/\n${sumRate(outcome.denominator)}`,
    },
  ];
}

/** Each treatment's value divided by the control's, matched on everything but the variant. */
function overControlRule(spec: Spec, series: GuardrailSeries): RecordingRule {
  return {
    record: series.ratio,
    expr: `${selector(series.value, treatmentMatchers(spec))}\n/ ignoring (variant) group_left ()\n${selector(series.value, controlMatchers(spec))}`,
  };
}

/** The series every guardrail reads, warm latency guardrails' cold twins included. */
export function judgedSeries(spec: Spec, window: string): GuardrailSeries[] {
  return spec.metrics.guardrails.flatMap((guardrail) => {
    const own = guardrailSeries(spec, guardrail, window);
    return isWarmLatency(guardrail) ? [own, guardrailSeries(spec, coldTwin(guardrail), window)] : [own];
  });
}

/** Every recording rule of the experiment except SRM's, in evaluation order, each series once. */
export function recordingRules(spec: Spec, time: Timing): RecordingRule[] {
  const { window } = time;
  const judged = judgedSeries(spec, window);
  const rules = [
    ...latencyRules(spec, window),
    ...counterRules(spec, window),
    ...ratioRules(spec, window),
    {
      record: TREATMENT_FRACTION_RECORD,
      // Every router replica reports the same configured share: one value, not their sum.
      expr: aggregate(
        "max",
        levelLabels.experiment_variant,
        selector("llmab_treatment_fraction", experimentMatchers(spec)),
      ),
    },
    ...judged.flatMap((series) => outcomeRules(spec, series, window)),
    ...judged.map((series) => overControlRule(spec, series)),
  ];
  const seen = new Set<string>();
  return rules.filter((rule) => !seen.has(rule.record) && seen.add(rule.record));
}
