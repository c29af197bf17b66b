/**
 * Configured versus observed traffic split, and the sample-ratio-mismatch (SRM) z-score: a split
 * that drifts from its configuration means broken assignment, and every comparison downstream is
 * suspect until it is explained.
 *
 * Mode bandit has no SRM check (srm-rules.ts): its row compares the allocation in force with the
 * observed split and says why there is no z-score.
 */
import { RowBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import type { ExperimentSpec } from "../../spec/schema.ts";
import type { Timing } from "../config.ts";
import { checksSampleRatio, NO_SRM_IN_BANDIT, srmCriticalZ, srmZScoreRecord } from "../srm-rules.ts";
import { ALLOCATION_QUERY } from "./bandit-row.ts";
import type { ThresholdStep } from "./guardrail-views.ts";
import { HALF, timeseries } from "./panels.ts";
import { EXPERIMENT, selector } from "./promql.ts";
import { orderedVariants } from "./variables.ts";

const ASSIGNMENTS = "llmab_assignments_total";
const FRACTION = "llmab_treatment_fraction";

/** Threshold steps at ±z: red outside, green inside. */
export function srmSteps(z: number): ThresholdStep[] {
  const rounded = Number(z.toFixed(4));
  return [
    { value: null, color: "red" },
    { value: -rounded, color: "green" },
    { value: rounded, color: "red" },
  ];
}

/** The share of new units each variant should get now, from the router's live configuration. */
export function configuredShareQuery(control: string): string {
  const fractions = `max by (variant) (${selector(FRACTION, [EXPERIMENT])})`;
  return `${fractions} or label_replace(1 - sum(${fractions}), "variant", "${control}", "", "")`;
}

/** The share of new units each variant got over `window` (the SRM window, so it reads beside the z-score). */
export function observedShareQuery(window: string): string {
  const increase = (by: string) => `${by} (increase(${selector(ASSIGNMENTS, [EXPERIMENT])}[${window}]))`;
  return `${increase("sum by (variant)")} / on () group_left () ${increase("sum")}`;
}

/** Mode bandit: the allocation in force against the observed split, and no SRM panel. */
function banditSplitRow(time: Timing) {
  return {
    row: new RowBuilder("Traffic split (mode bandit: no sample-ratio check)"),
    panels: [
      timeseries(
        {
          title: "Allocation in force vs observed split",
          description: `Allocated: the probability the bandit assigns a new unit to each arm now. Observed: each arm's share of the units assigned for the first time over the last ${time.srmWindow}, which trails the allocation while it moves. ${NO_SRM_IN_BANDIT} All variants, whatever the variant picker says.`,
          unit: "percentunit",
          width: 2 * HALF,
        },
        [
          { expr: ALLOCATION_QUERY, legend: "{{variant}} allocated" },
          { expr: observedShareQuery(time.srmWindow), legend: "{{variant}} observed" },
        ],
      ),
    ],
  };
}

/**
 * The "Traffic split and sample ratio" row, over the SRM window of the profile's timing; in mode
 * bandit, the split without the SRM check.
 */
export function splitRow(spec: ExperimentSpec, time: Timing) {
  if (!checksSampleRatio(spec)) return banditSplitRow(time);
  const { control } = orderedVariants(spec);
  const z = srmCriticalZ(spec);
  const tests = orderedVariants(spec).treatments.length;
  const split = tests > 1 ? `, split over ${tests} treatments` : "";
  return {
    row: new RowBuilder("Traffic split and sample ratio"),
    panels: [
      timeseries(
        {
          title: "Configured vs observed split",
          description: `Configured: the share of new units the router assigns each variant now (0 for treatments while paused or rolled back). Observed: each variant's share of the units assigned for the first time over the last ${time.srmWindow}, the window the SRM check counts. All variants, whatever the variant picker says.`,
          unit: "percentunit",
          width: HALF,
        },
        [
          { expr: configuredShareQuery(control), legend: "{{variant}} configured" },
          { expr: observedShareQuery(time.srmWindow), legend: "{{variant}} observed" },
        ],
      ),
      timeseries(
        {
          title: `Sample ratio mismatch (z over ${time.srmWindow})`,
          description: `Per treatment, (observed − expected new units) / the binomial standard deviation over the last ${time.srmWindow}, as the SRM alert reads it (${srmZScoreRecord(time)}). Beyond ±${z.toFixed(2)} (analysis.srmThreshold ${spec.analysis.srmThreshold}, two-sided${split}) the split is a mismatch: find the cause before trusting any comparison. No line while a treatment gets no traffic by design or while its configured share changed within the window.`,
          unit: "none",
          width: HALF,
        },
        [{ expr: selector(srmZScoreRecord(time), [EXPERIMENT]), legend: "{{variant}}" }],
        srmSteps(z),
      ),
    ],
  };
}
