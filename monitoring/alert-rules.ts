/**
 * Alerting rules of one experiment: one per guardrail, a cold-start review twin per warm latency
 * guardrail, and the no-data alerts (missing data is inconclusive, never a pass). The SRM alert is
 * in srm-rules.ts.
 *
 * A guardrail alert fires for a treatment when, in the window, its value breaches the absolute
 * threshold (treatment alone must have `minSamples`) or the relative margin against control (both
 * arms must have `minSamples`), and the breach holds for `windows` evaluation intervals. The alert
 * value is always the treatment's value, so `$value` in the description means one thing.
 */
import type { ExperimentSpec, Guardrail } from "../spec/schema.ts";
import {
  actionText,
  actionTexts,
  breachText,
  type Limits,
  limitsText,
  valueTemplates,
} from "./alert-text.ts";
import { controlMatchers, experimentMatchers, treatmentMatchers, treatmentVariants } from "./arms.ts";
import {
  holdFor,
  NO_DATA_MIN_EXPECTED_REQUESTS,
  NO_DATA_WINDOWS,
  runbookUrl,
  severityByAction,
  type Timing,
} from "./config.ts";
import { coldTwin, type GuardrailSeries, guardrailSeries, isWarmLatency } from "./guardrail-series.ts";
import { labelList, numberLiteral, selector } from "./promql.ts";
import { counterIncreaseRecord, levelLabels, TREATMENT_FRACTION_RECORD } from "./record-names.ts";
import type { AlertingRule } from "./rule-file.ts";

type Spec = Pick<ExperimentSpec, "name" | "variants" | "metrics" | "monitoring" | "rollout">;

export const TREATMENT_NO_DATA_ALERT = "LlmAbTreatmentNoData";
export const METRICS_ABSENT_ALERT = "LlmAbExperimentMetricsAbsent";

/** `ttft_p95_seconds` → `TtftP95Seconds`. */
function camel(text: string): string {
  return text
    .split(/[^a-zA-Z0-9]+/)
    .filter((word) => word.length > 0)
    .map((word) => word[0]?.toUpperCase() + word.slice(1))
    .join("");
}

/**
 * Alert names per guardrail (same index as `metrics.guardrails`): `LlmAbGuardrail<Metric>[<State>]`,
 * with the action appended when two guardrails watch the same metric and state.
 */
export function guardrailAlertNames(spec: Pick<ExperimentSpec, "metrics">): string[] {
  const base = (guardrail: Guardrail) =>
    `LlmAbGuardrail${camel(guardrail.name)}${guardrail.replicaState === "any" ? "" : camel(guardrail.replicaState)}`;
  const { guardrails } = spec.metrics;
  return guardrails.map((guardrail) => {
    const shared = guardrails.filter((other) => base(other) === base(guardrail)).length > 1;
    return shared ? `${base(guardrail)}${camel(guardrail.action)}` : base(guardrail);
  });
}

/** The cold-start review twin's name of a warm guardrail's alert: `LlmAbColdStart<Metric>…`. */
export function coldReviewAlertName(guardrailAlertName: string): string {
  return guardrailAlertName.replace(/^LlmAbGuardrail/, "LlmAbColdStart").replace(/Warm(?=[A-Z]|$)/, "");
}

function indent(text: string): string {
  return text.replace(/^/gm, "  ");
}

/** PromQL of a breach by a treatment, the treatment's value being the result. */
function breachExpr(spec: Spec, series: GuardrailSeries, limits: Limits, minSamples: number): string {
  const labels = levelLabels[series.level];
  const on = labelList(labels);
  const onArm = labelList(labels.filter((label) => label !== "variant"));
  const treatment = [...treatmentMatchers(spec), ...series.stateMatchers];
  const control = [...controlMatchers(spec), ...series.stateMatchers];
  const value = selector(series.value, treatment);
  const worse = series.lowerIsBetter ? ">" : "<";
  const parts: string[] = [];
  if (limits.absolute !== undefined) parts.push(`${value} ${worse} ${numberLiteral(limits.absolute)}`);
  if (limits.relative !== undefined) {
    const bound = series.lowerIsBetter ? 1 + limits.relative : 1 - limits.relative;
    parts.push(
      [
        value,
        `and on ${on} (${selector(series.ratio, treatment)} ${worse} ${numberLiteral(bound)})`,
        `and on ${onArm} (${selector(series.samples, control)} >= ${minSamples})`,
      ].join("\n"),
    );
  }
  if (parts.length === 0) throw new Error("a guardrail alert needs an absolute or a relative threshold");
  const breach = parts.length === 1 ? parts[0] : parts.map((part) => `(\n${indent(part)}\n)`).join("\nor\n");
  return `(\n${indent(breach ?? "")}\n)\nand on ${on} (${selector(series.samples, treatment)} >= ${minSamples})`;
}

function annotations(
  spec: Spec,
  alert: string,
  summary: string,
  description: string,
): Record<string, string> {
  const runbook = runbookUrl(spec, alert);
  return { description, summary, ...(runbook === undefined ? {} : { runbook_url: runbook }) };
}

function guardrailAlert(spec: Spec, time: Timing, guardrail: Guardrail, alert: string): AlertingRule {
  const series = guardrailSeries(spec, guardrail, time.window);
  const limits: Limits = {
    absolute: series.lowerIsBetter ? guardrail.max : guardrail.min,
    relative: guardrail.relativeMax,
  };
  const hold = holdFor(guardrail.windows, time);
  return {
    alert,
    expr: breachExpr(spec, series, limits, guardrail.minSamples),
    for: hold,
    labels: {
      action: guardrail.action,
      experiment: spec.name,
      guardrail: guardrail.name,
      severity: severityByAction[guardrail.action],
    },
    annotations: annotations(
      spec,
      alert,
      `A treatment's ${series.what} breaches its ${guardrail.name} guardrail.`,
      [
        `{{ $labels.variant }} in {{ $labels.experiment }}: ${series.what} is ${valueTemplates[series.format]};`,
        `the guardrail allows ${limitsText(series, limits)}.`,
        `Breached for ${hold} with at least ${guardrail.minSamples} ${series.sampleNoun} per variant in each ${time.window} window.`,
        actionText(guardrail.action, treatmentVariants(spec).length),
      ].join(" "),
    ),
  };
}

/**
 * Review alert on cold replicas for a warm latency guardrail. Cold replicas are slower by nature,
 * so a warm ceiling says nothing about them: the treatment's cold starts are compared with the
 * control's cold starts (the guardrail's relative margin); only a guardrail without a margin falls
 * back to its ceiling.
 */
function coldReviewAlert(spec: Spec, time: Timing, guardrail: Guardrail, alert: string): AlertingRule {
  const cold = coldTwin(guardrail);
  const series = guardrailSeries(spec, cold, time.window);
  const limits: Limits =
    guardrail.relativeMax === undefined
      ? { absolute: guardrail.max, relative: undefined }
      : { absolute: undefined, relative: guardrail.relativeMax };
  const hold = holdFor(guardrail.windows, time);
  return {
    alert,
    expr: breachExpr(spec, series, limits, guardrail.minSamples),
    for: hold,
    labels: {
      action: "review",
      experiment: spec.name,
      guardrail: guardrail.name,
      severity: severityByAction.review,
    },
    annotations: annotations(
      spec,
      alert,
      `A treatment's ${series.what} regressed; its warm-replica guardrail does not act on cold starts.`,
      [
        `{{ $labels.variant }} in {{ $labels.experiment }}: ${series.what} is ${valueTemplates[series.format]},`,
        `${breachText(series, limits)}, for ${hold} with at least ${guardrail.minSamples} ${series.sampleNoun} per variant.`,
        `Replicas in warm-up are not the variant's fault, so the ${guardrail.name} guardrail (${guardrail.action}) judges warm replicas only;`,
        "a slower load, a bigger model or a colder prefix cache still deserves a look before ramping.",
        actionTexts.review,
      ].join(" "),
    ),
  };
}

/**
 * A treatment that should get traffic (a share > 0, and enough control requests that its expected
 * count is well above zero) but reported no request in the window. The share is what the router
 * reports as `llmab_treatment_fraction`: the configured split, or in mode bandit the allocation in
 * force (router/context.ts); either is 0 while the experiment is paused or rolled back.
 */
function treatmentNoDataAlert(spec: Spec, time: Timing): AlertingRule {
  const requests = counterIncreaseRecord("llmab_requests", time.window);
  const fraction = selector(TREATMENT_FRACTION_RECORD, treatmentMatchers(spec));
  // Expected treatment requests: control's requests × treatment share ÷ control share.
  const expected = [
    `(${fraction} > 0)`,
    "* on (experiment) group_left ()",
    "(",
    `  sum by (experiment) (${selector(requests, controlMatchers(spec))})`,
    "  / on (experiment)",
    `  (1 - sum by (experiment) (${fraction}))`,
    ")",
  ].join("\n");
  const share =
    spec.rollout.mode === "bandit"
      ? "a share of new units in the bandit's allocation"
      : "a configured share of new units";
  const hold = holdFor(NO_DATA_WINDOWS, time);
  return {
    alert: TREATMENT_NO_DATA_ALERT,
    expr: `(\n${indent(expected)}\n) >= ${NO_DATA_MIN_EXPECTED_REQUESTS}\nunless on (experiment, variant)\n(${selector(requests, treatmentMatchers(spec))} > 0)`,
    for: hold,
    labels: { action: "review", experiment: spec.name, severity: severityByAction.review },
    annotations: annotations(
      spec,
      TREATMENT_NO_DATA_ALERT,
      "A treatment that should get traffic reports no requests: its guardrails cannot be judged.",
      [
        `{{ $labels.variant }} in {{ $labels.experiment }} has ${share},`,
        `and control's volume predicts about {{ printf "%.0f" $value }} of its requests per ${time.window},`,
        `yet it has reported none in a whole ${time.window} window, for ${hold} now.`,
        "Its guardrails are inconclusive, not passing: check the router's routing and the variant's deployment.",
        actionTexts.review,
      ].join(" "),
    ),
  };
}

/** No router reports this experiment at all: nothing about it can be judged. */
function metricsAbsentAlert(spec: Spec, time: Timing): AlertingRule {
  const hold = holdFor(NO_DATA_WINDOWS, time);
  return {
    alert: METRICS_ABSENT_ALERT,
    expr: `absent(${selector("llmab_experiment_state", [...experimentMatchers(spec)])})`,
    for: hold,
    labels: { action: "review", experiment: spec.name, severity: severityByAction.review },
    annotations: annotations(
      spec,
      METRICS_ABSENT_ALERT,
      "No router reports metrics for this experiment: every guardrail is inconclusive.",
      [
        `No llmab_experiment_state series with experiment="{{ $labels.experiment }}" for ${hold}:`,
        "the router is down, not scraped, or serves another experiment.",
        "Guardrails cannot fire without data, so none of them is passing.",
        actionTexts.review,
      ].join(" "),
    ),
  };
}

/** Every alert of the experiment but SRM's: guardrails in spec order (each warm one followed by its cold review), then no-data. */
export function alertRules(spec: Spec, time: Timing): AlertingRule[] {
  const names = guardrailAlertNames(spec);
  const guardrails = spec.metrics.guardrails.flatMap((guardrail, index) => {
    const name = names[index] ?? "";
    const own = guardrailAlert(spec, time, guardrail, name);
    return isWarmLatency(guardrail)
      ? [own, coldReviewAlert(spec, time, guardrail, coldReviewAlertName(name))]
      : [own];
  });
  return [...guardrails, treatmentNoDataAlert(spec, time), metricsAbsentAlert(spec, time)];
}
