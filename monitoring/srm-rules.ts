/**
 * Sample-ratio mismatch, live: new units per variant over the SRM window against the share the
 * router is configured to give each treatment (`llmab_treatment_fraction`).
 *
 * For each treatment, its count n_v among all n new units is Binomial(n, p_v) when assignment
 * works, so z = (n_v − n·p_v) / √(n·p_v·(1 − p_v)). With one treatment z² is the chi-square
 * statistic of the 2-cell goodness-of-fit test the analysis uses; with several, each treatment is
 * tested against the rest and the spec's `analysis.srmThreshold` is split among them (Bonferroni).
 *
 * A window in which the configured share changed (a ramp, a pause, a resume) mixes two allocation
 * phases, and pooling phases is exactly what SRM must not do, so such windows are not judged.
 *
 * Mode bandit gets no SRM check at all (see {@link checksSampleRatio}): its allocation moves on
 * purpose, every batched update, so there is no fixed expected ratio to test new units against.
 */
import normalQuantile from "@stdlib/stats-base-dists-normal-quantile";
import type { ExperimentSpec } from "../spec/schema.ts";
import { experimentMatchers, treatmentMatchers, treatmentVariants } from "./arms.ts";
import { holdFor, runbookUrl, SRM_MIN_UNITS, SRM_WINDOWS, severityByAction, type Timing } from "./config.ts";
import { labelList, numberLiteral, selector } from "./promql.ts";
import { levelLabels, TREATMENT_FRACTION_RECORD } from "./record-names.ts";
import type { AlertingRule, RecordingRule } from "./rule-file.ts";

type Spec = Pick<ExperimentSpec, "name" | "variants" | "analysis" | "monitoring">;

export const SRM_ALERT = "LlmAbSampleRatioMismatch";

/** Why an experiment has no SRM rules: said in the rule file and on the dashboard. */
export const NO_SRM_IN_BANDIT =
  "No sample-ratio-mismatch check: in mode bandit the allocation moves toward the better arm on purpose, at every posterior update, so no fixed expected ratio exists to test the split against. Guardrails still judge every treatment against control.";

/**
 * Whether the experiment gets the live SRM rules and alert. Not in mode bandit: a split that
 * follows the posterior is the bandit working. Against a fixed ratio (the burn-in's equal split)
 * every update would look like a mismatch; against the live allocation, which the router reports
 * as `llmab_treatment_fraction`, nearly every window holds an update, mixes allocation phases and
 * is skipped, so the alert would promise a check it never makes.
 */
export function checksSampleRatio(spec: Pick<ExperimentSpec, "rollout">): boolean {
  return spec.rollout.mode !== "bandit";
}

/** New units per variant over the SRM window. */
export function srmAssignmentsRecord(time: Timing): string {
  return `experiment_variant:llmab_assignments:increase${time.srmWindow}`;
}

/** New units of the whole experiment over the SRM window. */
export function srmTotalRecord(time: Timing): string {
  return `experiment:llmab_assignments:increase${time.srmWindow}`;
}

/** Observed share of new units per variant over the SRM window (for the configured-vs-observed panel). */
export function srmShareRecord(time: Timing): string {
  return `experiment_variant:llmab_assignments:share_increase${time.srmWindow}`;
}

/** SRM z-score per treatment variant. */
export function srmZScoreRecord(time: Timing): string {
  return `experiment_variant:llmab_assignments:srm_zscore_increase${time.srmWindow}`;
}

/** |z| beyond which the split is flagged: two-sided, Bonferroni over the treatments. */
export function srmCriticalZ(spec: Pick<ExperimentSpec, "variants" | "analysis">): number {
  const tests = Math.max(1, treatmentVariants(spec).length);
  return normalQuantile(1 - spec.analysis.srmThreshold / (2 * tests), 0, 1);
}

/** The SRM series, in evaluation order. */
export function srmRecordingRules(spec: Spec, time: Timing): RecordingRule[] {
  const own = experimentMatchers(spec);
  const treatments = treatmentMatchers(spec);
  const perVariant = srmAssignmentsRecord(time);
  const total = selector(srmTotalRecord(time), own);
  // Shares of exactly 0 (paused, rolled back, shadow) or 1 have no binomial spread to test against.
  const share = `(${selector(TREATMENT_FRACTION_RECORD, treatments)} > 0 < 1)`;
  const expected = `${share} * on (experiment) group_left () ${total}`;
  const changed = `max by (experiment, variant) (changes(${selector("llmab_treatment_fraction", treatments)}[${time.srmWindow}])) > 0`;
  return [
    {
      record: perVariant,
      expr: `sum by ${labelList(levelLabels.experiment_variant)} (increase(${selector("llmab_assignments_total", own)}[${time.srmWindow}]))`,
    },
    {
      record: srmTotalRecord(time),
      expr: `sum by ${labelList(levelLabels.experiment)} (${selector(perVariant, own)})`,
    },
    {
      record: srmShareRecord(time),
      expr: `${selector(perVariant, own)}\n/ ignoring (variant) group_left ()\n${total}`,
    },
    {
      record: srmZScoreRecord(time),
      // A treatment that got no new unit at all has no series; count it as 0, the strongest mismatch.
      expr: [
        "(",
        `  (${selector(perVariant, treatments)} or 0 * ${selector(TREATMENT_FRACTION_RECORD, treatments)})`,
        "  - on (experiment, variant)",
        `  (${expected})`,
        ")",
        "/",
        `sqrt(${expected} * (1 - ${share}))`,
        "unless on (experiment, variant)",
        `(${changed})`,
      ].join("\n"),
    },
  ];
}

/** Fires when a treatment's share of new units is off its configured share beyond chance. */
export function srmAlert(spec: Spec, time: Timing): AlertingRule {
  const z = numberLiteral(srmCriticalZ(spec));
  const zScore = selector(srmZScoreRecord(time), experimentMatchers(spec));
  const tests = treatmentVariants(spec).length;
  const runbook = runbookUrl(spec, SRM_ALERT);
  return {
    alert: SRM_ALERT,
    expr: [
      `(${zScore} > ${z} or ${zScore} < -${z})`,
      `and on (experiment) (${selector(srmTotalRecord(time), experimentMatchers(spec))} >= ${SRM_MIN_UNITS})`,
    ].join("\n"),
    for: holdFor(SRM_WINDOWS, time),
    labels: { action: "review", experiment: spec.name, severity: severityByAction.review },
    annotations: {
      summary: "New units are not split between the variants as configured (sample-ratio mismatch).",
      description: [
        `New units assigned to {{ $labels.variant }} in {{ $labels.experiment }} over the last ${time.srmWindow}`,
        `differ from its configured share: z = {{ printf "%.2f" $value }}, beyond ±${Number(srmCriticalZ(spec).toFixed(2))}`,
        `(p < ${spec.analysis.srmThreshold}${tests > 1 ? `, split over ${tests} treatments` : ""}).`,
        "Assignment is broken or units are lost on one side; until the cause is found the comparison is not trustworthy.",
      ].join(" "),
      ...(runbook === undefined ? {} : { runbook_url: runbook }),
    },
  };
}
