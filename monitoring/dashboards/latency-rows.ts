/**
 * Per-variant latency, warm and cold replicas side by side (DESIGN.md, "Warm vs cold"): a canary
 * with little traffic lands on cold replicas more often, and that is not the variant's fault, so a
 * reader compares warm with warm. Dashed lines mark the guardrail ceilings that apply.
 */
import { RowBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { guardrailMetric, type LatencyHistogram } from "../../spec/guardrail-metrics.ts";
import { type GuardrailView, thresholdLines } from "./guardrail-views.ts";
import { HALF, type Query, timeseries } from "./panels.ts";
import { EXPERIMENT, equals, histogramQuantile, PICKED_VARIANTS, RATE_INTERVAL } from "./promql.ts";

/** The router's latency histograms, as the dashboard titles them. */
export const latencyHistograms: readonly { metric: LatencyHistogram; title: string; what: string }[] = [
  {
    metric: "llmab_ttft_seconds",
    title: "Time to first token (TTFT)",
    what: "request start to the first content token, measured in the router",
  },
  {
    metric: "llmab_tpot_seconds",
    title: "Time per output token (TPOT)",
    what: "(e2e − TTFT) / (output tokens − 1), per request",
  },
  {
    metric: "llmab_itl_seconds",
    title: "Inter-token latency (ITL)",
    what: "every gap between consecutive streamed tokens",
  },
  { metric: "llmab_e2e_seconds", title: "End-to-end latency", what: "request start to the last byte" },
];

export const latencyQuantiles = [0.5, 0.95, 0.99] as const;
const replicaStates = ["warm", "cold"] as const;

/** p50/p95/p99 per picked variant for one histogram and replica state. */
export function latencyQueries(histogram: LatencyHistogram, state: "warm" | "cold"): Query[] {
  const matchers = [EXPERIMENT, PICKED_VARIANTS, equals("replica_state", state)];
  return latencyQuantiles.map((q) => ({
    expr: histogramQuantile(q, histogram, matchers, RATE_INTERVAL, ["variant"]),
    legend: `{{variant}} p${Math.round(q * 100)}`,
  }));
}

/** Whether a guardrail is judged on this histogram for requests in this replica state. */
export function guardsLatency(
  view: GuardrailView,
  histogram: LatencyHistogram,
  state: "warm" | "cold",
): boolean {
  const measure = guardrailMetric(view.guardrail.name)?.measure;
  return (
    measure?.kind === "quantile" &&
    measure.histogram === histogram &&
    (view.guardrail.replicaState === "any" || view.guardrail.replicaState === state)
  );
}

/** One row per latency histogram, each with a warm and a cold panel. */
export function latencyRows(views: readonly GuardrailView[]) {
  return latencyHistograms.map(({ metric, title, what }) => ({
    row: new RowBuilder(title),
    panels: replicaStates.map((state) => {
      const lines = thresholdLines(views, (view) => guardsLatency(view, metric, state), " s");
      return timeseries(
        {
          title: `${title}, ${state} replicas`,
          description: `p50 / p95 / p99 of ${what}, per variant, for requests served by ${state} replicas (successful requests only).${lines.note}`,
          unit: "s",
          width: HALF,
        },
        latencyQueries(metric, state),
        lines.steps,
      );
    }),
  }));
}
