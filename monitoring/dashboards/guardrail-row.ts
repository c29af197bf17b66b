/**
 * Panels per guardrail of the spec, reading the very series its alert compares (the recording
 * rules' value per variant and treatment ÷ control over the guardrail window): the value against
 * its absolute bound, the ratio against the allowed relative regression and, for a warm latency
 * guardrail, the cold-start review that watches the cold replicas it ignores.
 */
import { RowBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { coldReviewAlertName } from "../alert-rules.ts";
import { holdFor, type Timing } from "../config.ts";
import { coldTwin, guardrailSeries, isWarmLatency } from "../guardrail-series.ts";
import { boundSteps, type GuardrailView } from "./guardrail-views.ts";
import { HALF, THIRD, timeseries } from "./panels.ts";
import { EXPERIMENT, PICKED_VARIANTS, selector } from "./promql.ts";
import { orderedVariants } from "./variables.ts";

function howItActs(view: GuardrailView, time: Timing): string {
  const { guardrail } = view;
  return `Alert ${view.alertName}: action ${guardrail.action} once a breach holds for ${guardrail.windows} evaluation(s) of ${time.interval} (for: ${holdFor(guardrail.windows, time)}), each over the last ${time.window}; a window with fewer than ${guardrail.minSamples} observations per variant is inconclusive.`;
}

/** A limit as a reader expects it printed: 1 + 0.1 is 1.1, not 1.1000000000000001. */
const tidy = (value: number) => Number(value.toPrecision(12));

/**
 * The cold-start review of a warm latency guardrail: cold treatment against cold control with the
 * guardrail's relative margin, or against its ceiling when it has no margin (as the review alert).
 */
function coldReviewPanel(spec: ExperimentSpec, view: GuardrailView, time: Timing, control: string) {
  const { guardrail } = view;
  const series = guardrailSeries(spec, coldTwin(guardrail), time.window);
  const relative = guardrail.relativeMax !== undefined;
  const limit = relative ? tidy(1 + (guardrail.relativeMax ?? 0)) : guardrail.max;
  const what = relative
    ? `each treatment's cold-replica value divided by ${control}'s`
    : "the cold-replica value per variant";
  return timeseries(
    {
      title: `${guardrail.name} cold-start review: ${relative ? "treatment ÷ control" : "per variant"}`,
      description: `Cold replicas are slower by nature, so ${view.title} ignores them; alert ${coldReviewAlertName(view.alertName)} (review only) watches ${what} over the last ${time.window} (${relative ? series.ratio : series.value}).${limit === undefined ? "" : ` Dashed line: ${limit}.`}`,
      unit: relative ? "none" : view.unit,
      width: THIRD,
    },
    [
      relative
        ? {
            expr: selector(series.ratio, [EXPERIMENT, ...series.stateMatchers]),
            legend: `{{variant}} ÷ ${control}`,
          }
        : {
            expr: selector(series.value, [EXPERIMENT, PICKED_VARIANTS, ...series.stateMatchers]),
            legend: "{{variant}}",
          },
    ],
    boundSteps(limit, true),
  );
}

/** The "Guardrails" row: two panels per guardrail (three for a warm latency one), in spec order. */
export function guardrailRow(spec: ExperimentSpec, views: readonly GuardrailView[], time: Timing) {
  const { control } = orderedVariants(spec);
  return {
    row: new RowBuilder("Guardrails"),
    panels: views.flatMap((view) => {
      const series = guardrailSeries(spec, view.guardrail, time.window);
      const coldReview = isWarmLatency(view.guardrail);
      // Three to a row when the cold-start review joins, so every guardrail starts a line.
      const width = coldReview ? THIRD : HALF;
      const { absolute, ratioLimit } = view.thresholds;
      const limit = ratioLimit === undefined ? undefined : tidy(ratioLimit);
      const bound =
        absolute === undefined
          ? "No absolute bound."
          : `Dashed line: the absolute ${absolute.bound === "max" ? "ceiling" : "floor"} ${absolute.value}.`;
      const relative =
        limit === undefined
          ? "No relative bound."
          : `Dashed line: ${limit}; treatment ${view.lowerIsBetter ? "above" : "below"} it breaches.`;
      return [
        timeseries(
          {
            title: `${view.title}: per variant`,
            description: `${view.guardrail.name} per variant over the last ${time.window}, as recorded for the alert (${series.value}). ${bound} ${howItActs(view, time)}`,
            unit: view.unit,
            width,
          },
          [
            {
              expr: selector(series.value, [EXPERIMENT, PICKED_VARIANTS, ...series.stateMatchers]),
              legend: "{{variant}}",
            },
          ],
          boundSteps(absolute?.value, view.lowerIsBetter),
        ),
        timeseries(
          {
            title: `${view.title}: treatment ÷ control`,
            description: `Each treatment's ${view.guardrail.name} divided by ${control}'s over the last ${time.window} (${series.ratio}). ${relative} ${howItActs(view, time)}`,
            unit: "none",
            width,
          },
          [
            {
              expr: selector(series.ratio, [EXPERIMENT, ...series.stateMatchers]),
              legend: `{{variant}} ÷ ${control}`,
            },
          ],
          boundSteps(limit, view.lowerIsBetter),
        ),
        ...(coldReview ? [coldReviewPanel(spec, view, time, control)] : []),
      ];
    }),
  };
}
