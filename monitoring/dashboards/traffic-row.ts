/**
 * What each variant is served and what it costs: request rate, error ratio, cost per session, and
 * the share of its requests that landed on cold replicas (the context every latency panel needs).
 */
import { RowBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { builtInMeasure } from "./builtin-measures.ts";
import { type GuardrailView, thresholdLines } from "./guardrail-views.ts";
import { QUARTER, timeseries } from "./panels.ts";
import { EXPERIMENT, equals, PICKED_VARIANTS, RATE_INTERVAL, ratio, sumRate } from "./promql.ts";

const picked = [EXPERIMENT, PICKED_VARIANTS];
const byVariant = ["variant"];

/** The "Requests, errors and cost" row, with the error-rate and cost ceilings of the spec drawn in. */
export function trafficRow(views: readonly GuardrailView[]) {
  const named = (name: string) => (view: GuardrailView) => view.guardrail.name === name;
  const errors = thresholdLines(views, named("error_rate"));
  const cost = thresholdLines(views, named("cost_per_session_usd"), " USD");
  return {
    row: new RowBuilder("Requests, errors and cost"),
    panels: [
      timeseries(
        {
          title: "Requests per second",
          description: "Proxied requests per second, per variant, whatever their outcome.",
          unit: "reqps",
          width: QUARTER,
        },
        [{ expr: sumRate("llmab_requests_total", picked, RATE_INTERVAL, byVariant), legend: "{{variant}}" }],
      ),
      timeseries(
        {
          title: "Error ratio",
          description: `Share of requests that did not end in a 2xx response (upstream errors, timeouts, 5xx), per variant; zero when a variant has had no errors.${errors.note}`,
          unit: "percentunit",
          width: QUARTER,
        },
        [{ expr: builtInMeasure("error_rate")(picked, RATE_INTERVAL), legend: "{{variant}}" }],
        errors.steps,
      ),
      timeseries(
        {
          title: "Cost per session",
          description: `Model cost (USD, from token counts and the deployment's price) over new units assigned in the same interval, per variant: the cost_per_session_usd guardrail's measure.${cost.note}`,
          unit: "currencyUSD",
          width: QUARTER,
        },
        [{ expr: builtInMeasure("cost_per_session_usd")(picked, RATE_INTERVAL), legend: "{{variant}}" }],
        cost.steps,
      ),
      timeseries(
        {
          title: "Requests on cold replicas",
          description:
            "Share of each variant's successful requests served by a replica still inside its warm-up (young, few requests served, or idle too long). A high share explains slow cold latency without blaming the variant.",
          unit: "percentunit",
          width: QUARTER,
        },
        [
          {
            expr: ratio(
              sumRate(
                "llmab_e2e_seconds_count",
                [...picked, equals("replica_state", "cold")],
                RATE_INTERVAL,
                byVariant,
              ),
              sumRate("llmab_e2e_seconds_count", picked, RATE_INTERVAL, byVariant),
              true,
            ),
            legend: "{{variant}}",
          },
        ],
      ),
    ],
  };
}
