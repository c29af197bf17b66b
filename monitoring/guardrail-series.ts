/**
 * Which recorded series a guardrail reads: its value per variant, the sample size that value rests
 * on, and its treatment ÷ control ratio. Built-in metrics come from the catalogue in
 * spec/guardrail-metrics.ts (`measure`); outcome guardrails from the spec's declared metrics.
 */
import { type GuardrailMetric, guardrailMetric, type SeriesRef } from "../spec/guardrail-metrics.ts";
import type { ExperimentSpec, Guardrail } from "../spec/schema.ts";
import { matcher } from "./promql.ts";
import {
  counterBase,
  counterIncreaseRecord,
  countIncreaseRecord,
  type Level,
  outcomeMeanRecord,
  outcomeObservationsRecord,
  outcomeRatioRecord,
  overControlRecord,
  quantileLabel,
  quantileRecord,
  ratioRecord,
} from "./record-names.ts";

/** How a value is printed in alert text: Go template function and static threshold format. */
export type ValueFormat = "duration" | "percent" | "usd" | "number";

/** Where an outcome guardrail's value comes from (`llmab_outcome_sum` by `metric` label). */
export type OutcomeSource =
  /** Binary or continuous metric: sum of the field's values over its observations. */
  | { readonly kind: "mean"; readonly field: string }
  /** Ratio metric: sum of the numerator field over sum of the denominator field. */
  | { readonly kind: "ratio"; readonly numerator: string; readonly denominator: string };

/** The recorded series one guardrail is judged on. */
export interface GuardrailSeries {
  /** `experiment_variant`, or `experiment_variant_replica_state` for a warm or cold latency guardrail. */
  readonly level: Level;
  /** Matchers narrowing the level to the guardrail's replica state (`replica_state="warm"`), or none. */
  readonly stateMatchers: readonly string[];
  /** The guarded value per variant. */
  readonly value: string;
  /** What that value rests on in the window (requests, new units, outcome events). */
  readonly samples: string;
  /** Each treatment's value over the control's. */
  readonly ratio: string;
  /** Lower is better for every built-in metric; outcomes follow their declared direction. */
  readonly lowerIsBetter: boolean;
  readonly format: ValueFormat;
  /** The value in words, for alert text: "p95 time to first token on warm replicas". */
  readonly what: string;
  /** What `samples` counts, in words: "successful requests on warm replicas". */
  readonly sampleNoun: string;
  /** Set for outcome guardrails: the recording rules must compute this value. */
  readonly outcome?: OutcomeSource;
}

const latencyWords: Readonly<Record<string, string>> = {
  llmab_ttft_seconds: "time to first token",
  llmab_tpot_seconds: "time per output token",
  llmab_itl_seconds: "inter-token latency",
  llmab_e2e_seconds: "end-to-end latency",
};

const counterNouns: Readonly<Record<string, string>> = {
  llmab_requests_total: "requests",
  llmab_assignments_total: "new units",
};

const formatByUnit: Readonly<Record<GuardrailMetric["unit"], ValueFormat>> = {
  seconds: "duration",
  ratio: "percent",
  usd: "usd",
  tokens: "number",
};

/** The recorded base name of a counter series: `llmab_requests`, `llmab_tokens_kind_output`, … */
export function seriesBase(ref: SeriesRef): string {
  const base = counterBase(ref.metric);
  if (ref.matchers === undefined) return base;
  const slug = ref.matchers
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_|_$/g, "");
  return `${base}_${slug}`;
}

/** `error_rate` → "error rate", `cost_per_session_usd` → "cost per session" (the unit is printed with the value). */
function metricWords(name: string): string {
  return name.replace(/_usd$/, "").replaceAll("_", " ");
}

/** The series a guardrail reads. Throws for a metric that is neither built in nor declared (spec validation rules it out). */
export function guardrailSeries(
  spec: Pick<ExperimentSpec, "metrics">,
  guardrail: Guardrail,
  window: string,
): GuardrailSeries {
  const builtIn = guardrailMetric(guardrail.name);
  if (builtIn !== undefined) return builtInSeries(guardrail, builtIn, window);
  return outcomeSeries(spec, guardrail, window);
}

function builtInSeries(guardrail: Guardrail, metric: GuardrailMetric, window: string): GuardrailSeries {
  const { measure } = metric;
  const format = formatByUnit[metric.unit];
  if (measure.kind === "quantile") {
    const perState = guardrail.replicaState !== "any";
    const level: Level = perState ? "experiment_variant_replica_state" : "experiment_variant";
    const value = quantileRecord(measure.histogram, level, measure.quantile, window);
    const where = perState ? ` on ${guardrail.replicaState} replicas` : "";
    return {
      level,
      stateMatchers: perState ? [matcher("replica_state", "=", guardrail.replicaState)] : [],
      value,
      samples: countIncreaseRecord(measure.histogram, level, window),
      ratio: overControlRecord(value),
      lowerIsBetter: true,
      format,
      what: `${quantileLabel(measure.quantile)} ${latencyWords[measure.histogram] ?? measure.histogram}${where}`,
      sampleNoun: `successful requests${where}`,
    };
  }
  const value = ratioRecord(guardrail.name, window);
  return {
    level: "experiment_variant",
    stateMatchers: [],
    value,
    samples: counterIncreaseRecord(seriesBase(measure.denominator), window),
    ratio: overControlRecord(value),
    lowerIsBetter: true,
    format,
    what: metricWords(guardrail.name),
    sampleNoun: counterNouns[measure.denominator.metric] ?? "events",
  };
}

function outcomeSeries(
  spec: Pick<ExperimentSpec, "metrics">,
  guardrail: Guardrail,
  window: string,
): GuardrailSeries {
  const declared = [...spec.metrics.primary, ...spec.metrics.secondary].find(
    (metric) => metric.name === guardrail.name,
  );
  if (declared === undefined) {
    throw new Error(
      `guardrail "${guardrail.name}" is neither a built-in router metric nor declared in metrics.primary or metrics.secondary (validate the spec first)`,
    );
  }
  const lowerIsBetter = declared.direction === "decrease";
  if (declared.kind === "ratio") {
    const { numerator, denominator } = declared;
    if (numerator === undefined || denominator === undefined) {
      throw new Error(
        `ratio metric "${declared.name}" needs numerator and denominator (validate the spec first)`,
      );
    }
    const value = outcomeRatioRecord(declared.name, window);
    return {
      level: "experiment_variant",
      stateMatchers: [],
      value,
      samples: outcomeObservationsRecord(denominator, window),
      ratio: overControlRecord(value),
      lowerIsBetter,
      format: "number",
      what: `${declared.name} (${numerator} per ${denominator})`,
      sampleNoun: `${denominator} outcome events`,
      outcome: { kind: "ratio", numerator, denominator },
    };
  }
  const value = outcomeMeanRecord(declared.name, window);
  return {
    level: "experiment_variant",
    stateMatchers: [],
    value,
    samples: outcomeObservationsRecord(declared.name, window),
    ratio: overControlRecord(value),
    lowerIsBetter,
    format: declared.kind === "binary" ? "percent" : "number",
    what: declared.kind === "binary" ? `${declared.name} rate` : `mean ${declared.name}`,
    sampleNoun: `${declared.name} outcome events`,
    outcome: { kind: "mean", field: declared.name },
  };
}

/** Whether a guardrail judges a latency on warm replicas only (and so gets a cold-start review twin). */
export function isWarmLatency(guardrail: Guardrail): boolean {
  return guardrail.replicaState === "warm" && guardrailMetric(guardrail.name)?.measure.kind === "quantile";
}

/** The cold-replica twin of a warm latency guardrail, judged by its cold-start review alert. */
export function coldTwin(guardrail: Guardrail): Guardrail {
  return { ...guardrail, replicaState: "cold" };
}
