/**
 * The verdict table of a demo run, as rows of text: one row per metric of the analysis (role,
 * arms, effect with its interval, p and adjusted p, status), plus the split check and where the
 * design stands. The HTML report and the terminal summary both render these rows, so the two
 * never disagree on a number.
 */
import type { AnalysisReport, MetricReport } from "../../analysis/analyze.ts";
import { count, percent, pValue, signed, signedFixed, value } from "./format.ts";

export const VERDICT_HEAD = [
  "metric",
  "role",
  "control",
  "treatment",
  "effect [CI]",
  "p",
  "adj. p",
  "status",
] as const;

/** How a status reads: good news, bad news, or neither. */
export type Tone = "good" | "bad" | "neutral";

export interface VerdictRow {
  readonly metric: string;
  readonly role: MetricReport["role"];
  readonly control: string;
  readonly treatment: string;
  readonly effect: string;
  readonly p: string;
  readonly adjustedP: string;
  readonly status: string;
  readonly tone: Tone;
  /** Why the metric was not tested, or how it was. */
  readonly note?: string;
}

/** win/pass are good, loss/breached bad; the rest (flat, early, no data, live only, ...) neither. */
export function statusTone(status: string): Tone {
  if (status === "win" || status === "pass") return "good";
  if (status === "loss" || status === "breached") return "bad";
  return "neutral";
}

/** A rate reads as a percentage and its effect in percentage points; anything else in its own unit. */
function arm(m: MetricReport, side: "control" | "treatment"): string {
  const { n, mean } = m[side];
  if (mean === null) return n > 0 ? `– (n ${count(n)})` : "–";
  return `${m.kind === "binary" ? percent(mean) : value(mean)} (n ${count(n)})`;
}

function effect(m: MetricReport): string {
  if (m.effect === null) return "–";
  // A rate's effect in percentage points, one decimal: the interval reads in the same unit.
  const binary = m.kind === "binary";
  const show = (x: number) => (binary ? signedFixed(100 * x, 1) : signed(x));
  const unit = binary ? " pp" : "";
  const ci = m.ci ? ` [${show(m.ci[0])}, ${show(m.ci[1])}]` : "";
  const lift =
    m.relativeLift === null
      ? ""
      : ` (${m.relativeLift >= 0 ? "+" : "−"}${percent(Math.abs(m.relativeLift))})`;
  return `${show(m.effect)}${unit}${ci}${lift}`;
}

/** One row per metric, in the order of the analysis (primary, secondary, guardrails). */
export function verdictRows(analysis: AnalysisReport): VerdictRow[] {
  return analysis.metrics.map((m) => ({
    metric: m.name,
    role: m.role,
    control: arm(m, "control"),
    treatment: arm(m, "treatment"),
    effect: effect(m),
    p: pValue(m.pValue),
    adjustedP: pValue(m.adjustedPValue),
    status: m.status,
    tone: statusTone(m.status),
    ...(m.note === undefined ? {} : { note: m.note }),
  }));
}

/** The split check in one sentence: counts per arm against the allocation, p, and whether it alarms. */
export function srmSummary(analysis: AnalysisReport): string {
  const { srm } = analysis;
  const arms = [analysis.control, analysis.treatment]
    .map((name, i) => `${name} ${count(srm.observed[i] ?? 0)} (expected ${count(srm.expected[i] ?? 0)})`)
    .join(", ");
  const verdict = srm.alarm
    ? `sample-ratio mismatch: p below ${srm.threshold}, effects cannot be trusted`
    : `no sample-ratio mismatch (alarm below p ${srm.threshold})`;
  const reported = reportedSummary(analysis);
  return `Split: ${arms}; χ² ${srm.chi2.toFixed(2)}, p ${pValue(srm.pValue)}: ${verdict}${reported === undefined ? "" : `. ${reported}`}`;
}

/**
 * Units of each arm that reported each primary outcome, when some did not: the split of the
 * analysed sample, which a balanced assignment does not guarantee (lost reports are a
 * sample-ratio mismatch of the metric; the verdict's reasons carry its test).
 */
export function reportedSummary(analysis: AnalysisReport): string | undefined {
  const [unitsC = 0, unitsT = 0] = analysis.srm.observed;
  const parts = analysis.metrics
    .filter((m) => m.role === "primary" && (m.control.n < unitsC || m.treatment.n < unitsT))
    .map((m) => {
      const share = (n: number, units: number) =>
        `${units === 0 ? "–" : `${((100 * n) / units).toFixed(0)} %`} (${count(n)} of ${count(units)})`;
      return `${m.name} reported by ${analysis.control} ${share(m.control.n, unitsC)}, ${analysis.treatment} ${share(m.treatment.n, unitsT)}`;
    });
  return parts.length === 0 ? undefined : `Outcomes: ${parts.join("; ")}`;
}

/** Where the design stands: share of the planned information, and the sequential look if any. */
export function designSummary(analysis: AnalysisReport): string {
  const { progress } = analysis;
  const info = `${percent(progress.informationFraction, 0)} of the planned information`;
  if (progress.kind === "fixed") return `Progress: ${info}, fixed horizon`;
  const looks = progress.looks.join(", ");
  if (progress.look === null) return `Progress: ${info}, before the first registered look (${looks})`;
  const boundary = progress.boundary === null ? "" : `, |z| boundary ${progress.boundary.toFixed(2)}`;
  return `Progress: ${info}, registered look ${progress.look} of ${progress.looks.length} (${looks})${boundary}`;
}

/** Guardrail rows carry 1 − 2α intervals (each end a one-sided non-inferiority bound): say so. */
export function intervalNote(analysis: AnalysisReport): string {
  const level = (a: number) => `${+(100 * (1 - a)).toFixed(2)} %`;
  const alpha = analysis.plan.alpha;
  return `Intervals are ${level(alpha)} (guardrails ${level(2 * alpha)}: each end a one-sided ${level(alpha)} bound).`;
}
