/**
 * An A/B/n test's one decision from its k treatment-vs-control comparisons, each tested at
 * alpha / k (Bonferroni: the chance of shipping any useless treatment stays at alpha).
 */
import type { Verdict } from "../stats/decision.ts";
import { type Direction, goodSign } from "../stats/direction.ts";
import type { ComparisonReport } from "./comparison.ts";

/**
 * How pressing each verdict is when no treatment ships, most pressing first. A rollback is harm
 * shown on trustworthy data: that arm must lose its traffic now. A hold says the data cannot be
 * trusted (SRM, outcomes missing unevenly) or a winner is not shown safe: stop and look. Keep
 * running outranks inconclusive because one comparison still able to ship keeps the experiment
 * worth running; inconclusive (no effect at the final look) is the experiment's end only when
 * every comparison has reached it. Like an analysis run whose phase is its worst metric's.
 */
export const VERDICT_SEVERITY: readonly Verdict[] = ["rollback", "hold", "keep running", "inconclusive"];

/** `metrics[].adjustedPValue` × k, capped at 1: comparable with the spec's alpha, not alpha / k. */
export function bonferroniAcross(report: ComparisonReport, k: number): ComparisonReport {
  if (k === 1) return report;
  return {
    ...report,
    metrics: report.metrics.map((m) => ({
      ...m,
      adjustedPValue: m.adjustedPValue === null ? null : Math.min(1, k * m.adjustedPValue),
    })),
  };
}

export interface OverallDecision {
  verdict: Verdict;
  /** The comparison the verdict is about: the shipped treatment, or the one with the most pressing verdict. */
  chosen: ComparisonReport;
  reasons: string[];
}

/** The first primary metric's effect turned so that larger is better; null when it was not estimated. */
function goodEffect(c: ComparisonReport, primary: { name: string; direction: Direction }): number | null {
  const effect = c.metrics.find((m) => m.role === "primary" && m.name === primary.name)?.effect ?? null;
  return effect === null ? null : goodSign(primary.direction) * effect;
}

/** Each distinct reason once, prefixed by the treatments that gave it (an SRM alarm is everyone's). */
function mergedReasons(comparisons: readonly ComparisonReport[]): string[] {
  const by = new Map<string, string[]>();
  for (const c of comparisons) {
    for (const reason of c.reasons) by.set(reason, [...(by.get(reason) ?? []), c.treatment]);
  }
  return [...by].map(([reason, treatments]) => `${treatments.join(", ")}: ${reason}`);
}

/**
 * One comparison decides alone. With several: ship the shipping treatment with the largest
 * effect on the first primary metric (in its good direction) if any ships, else the most pressing
 * verdict of the comparisons (see {@link VERDICT_SEVERITY}); ties go to the earlier treatment.
 * Between shipping treatments the pick is by point estimate: their difference is not tested.
 */
export function overallDecision(
  comparisons: readonly ComparisonReport[],
  primary: { name: string; direction: Direction },
  alpha: number,
): OverallDecision {
  const [first] = comparisons;
  if (first === undefined) throw new RangeError("no comparisons to decide between");
  if (comparisons.length === 1) return { verdict: first.verdict, chosen: first, reasons: first.reasons };
  const k = comparisons.length;
  const verdicts = comparisons.map((c) => `${c.treatment} ${c.verdict}`).join(", ");
  const correction = `each treatment vs control at alpha ${alpha}/${k} = ${Number((alpha / k).toPrecision(4))} (Bonferroni over ${k} treatments)`;
  const shipping = comparisons.filter((c) => c.verdict === "ship");
  if (shipping.length > 0) {
    const score = (c: ComparisonReport) => goodEffect(c, primary) ?? Number.NEGATIVE_INFINITY;
    const best = shipping.reduce((b, c) => (score(c) > score(b) ? c : b));
    const pick =
      shipping.length === 1
        ? "the only treatment that ships"
        : `${best.treatment} has the largest ${primary.name} effect of the ${shipping.length} treatments that ship (${shipping.map((c) => c.treatment).join(", ")}); picked by point estimate, their difference is not tested`;
    return {
      verdict: "ship",
      chosen: best,
      reasons: [`ship ${best.treatment}: ${pick}; ${correction}: ${verdicts}`, ...mergedReasons(comparisons)],
    };
  }
  const rank = (c: ComparisonReport) => VERDICT_SEVERITY.indexOf(c.verdict);
  const worst = comparisons.reduce((w, c) => (rank(c) < rank(w) ? c : w));
  return {
    verdict: worst.verdict,
    chosen: worst,
    reasons: [
      `no treatment ships; the most pressing verdict is ${worst.verdict} (${worst.treatment}); ${correction}: ${verdicts}`,
      ...mergedReasons(comparisons),
    ],
  };
}
