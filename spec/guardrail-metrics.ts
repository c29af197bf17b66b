/**
 * The catalogue of operational guardrail metrics the router measures itself, by name.
 *
 * A guardrail in a spec names either one of these or an outcome metric the spec declares. Every
 * catalogue metric is lower-is-better (latency, errors, cost, tokens); monitoring builds its
 * recording rules from `measure`, and analysis reads `unit` to label results.
 */

/** Router metric names from DESIGN.md ("Metric names"). All carry `experiment` and `variant` labels. */
export const routerMetricNames = [
  "llmab_requests_total",
  "llmab_assignments_total",
  "llmab_ttft_seconds",
  "llmab_tpot_seconds",
  "llmab_itl_seconds",
  "llmab_e2e_seconds",
  "llmab_tokens_total",
  "llmab_cost_usd_total",
  "llmab_outcome_observations_total",
  "llmab_outcome_sum",
  "llmab_outcome_sum_of_squares",
  "llmab_experiment_state",
  "llmab_treatment_fraction",
] as const;

export type RouterMetricName = (typeof routerMetricNames)[number];

/** The latency histograms; only these carry the `replica_state` label (warm / cold). */
export type LatencyHistogram =
  | "llmab_ttft_seconds"
  | "llmab_tpot_seconds"
  | "llmab_itl_seconds"
  | "llmab_e2e_seconds";

/** One series of a router metric, optionally narrowed by extra label matchers. */
export interface SeriesRef {
  readonly metric: RouterMetricName;
  /** Extra PromQL label matchers to splice inside `{…}`, e.g. `code!~"2.."`; absent means all series. */
  readonly matchers?: string;
}

/** How a catalogue metric is computed from router metrics. */
export type GuardrailMeasure =
  /** A quantile of a latency histogram (`histogram_quantile` over the bucket rates). */
  | { readonly kind: "quantile"; readonly histogram: LatencyHistogram; readonly quantile: number }
  /** A ratio of two counter rates, each summed before dividing. */
  | { readonly kind: "ratio"; readonly numerator: SeriesRef; readonly denominator: SeriesRef };

/** A built-in guardrail metric. */
export interface GuardrailMetric {
  readonly description: string;
  /** Base unit of the value (Prometheus convention): seconds, a 0–1 ratio, US dollars or tokens. */
  readonly unit: "seconds" | "ratio" | "usd" | "tokens";
  /** Every catalogue metric is a cost to keep down; a regression is an increase. */
  readonly lowerIsBetter: true;
  readonly measure: GuardrailMeasure;
  /** Whether a guardrail may restrict it to warm or cold replicas (`replicaState`). */
  readonly supportsReplicaState: boolean;
}

const quantiles = [
  ["p50", 0.5],
  ["p95", 0.95],
  ["p99", 0.99],
] as const;

const latencies = [
  ["ttft", "llmab_ttft_seconds", "time to first token"],
  ["tpot", "llmab_tpot_seconds", "time per output token after the first"],
  ["itl", "llmab_itl_seconds", "inter-token latency (gap between consecutive streamed tokens)"],
  ["e2e", "llmab_e2e_seconds", "end-to-end request latency"],
] as const;

function latencyMetrics(): Record<string, GuardrailMetric> {
  const out: Record<string, GuardrailMetric> = {};
  for (const [prefix, histogram, what] of latencies) {
    for (const [label, quantile] of quantiles) {
      out[`${prefix}_${label}_seconds`] = {
        description: `${label} ${what}, in seconds`,
        unit: "seconds",
        lowerIsBetter: true,
        measure: { kind: "quantile", histogram, quantile },
        supportsReplicaState: true,
      };
    }
  }
  return out;
}

function ratio(
  description: string,
  unit: GuardrailMetric["unit"],
  numerator: SeriesRef,
  denominator: SeriesRef,
): GuardrailMetric {
  return {
    description,
    unit,
    lowerIsBetter: true,
    measure: { kind: "ratio", numerator, denominator },
    supportsReplicaState: false,
  };
}

const requests: SeriesRef = { metric: "llmab_requests_total" };

/** Every built-in guardrail metric, by the name a spec uses (`metrics.guardrails[].name`). */
export const guardrailMetrics: Readonly<Record<string, GuardrailMetric>> = {
  ...latencyMetrics(),
  error_rate: ratio(
    "share of proxied requests that did not end in a 2xx response (upstream errors, timeouts, 5xx)",
    "ratio",
    { metric: "llmab_requests_total", matchers: 'code!~"2.."' },
    requests,
  ),
  cost_per_request_usd: ratio(
    "model cost per request in US dollars, from token counts and the deployment's price",
    "usd",
    { metric: "llmab_cost_usd_total" },
    requests,
  ),
  cost_per_session_usd: ratio(
    "model cost per assigned unit (user, conversation or session) in US dollars",
    "usd",
    { metric: "llmab_cost_usd_total" },
    { metric: "llmab_assignments_total" },
  ),
  output_tokens_per_request: ratio(
    "generated tokens per request (answers that grow longer cost more and read slower)",
    "tokens",
    { metric: "llmab_tokens_total", matchers: 'kind="output"' },
    requests,
  ),
  input_tokens_per_request: ratio(
    "prompt tokens per request (a longer system prompt or more retrieved context costs on every turn)",
    "tokens",
    { metric: "llmab_tokens_total", matchers: 'kind="input"' },
    requests,
  ),
};

/** The catalogue's names, in a stable order, for listing in messages. */
export const guardrailMetricNames: readonly string[] = Object.keys(guardrailMetrics);

/** The catalogue entry for `name`, or undefined when it is not built in. */
export function guardrailMetric(name: string): GuardrailMetric | undefined {
  return Object.hasOwn(guardrailMetrics, name) ? guardrailMetrics[name] : undefined;
}

/** Catalogue metrics whose value depends on the deployment's `price` (cost guardrails). */
export function isCostMetric(name: string): boolean {
  return guardrailMetric(name)?.unit === "usd";
}
