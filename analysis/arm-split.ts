/**
 * The split check over every arm at once: one chi-square goodness-of-fit test of control and all
 * treatments against the allocation the router applies (per allocation phase when the data records
 * phases). Testing each treatment against control separately would spend the SRM threshold k times
 * and still miss a mismatch between two treatments.
 */
import type { ExperimentSpec } from "../spec/schema.ts";
import { srmTest, srmTestByPhase } from "../stats/srm.ts";
import type { DataSummary } from "./data-summary.ts";
import type { SplitCheck } from "./split-checks.ts";

/** Assignment's bucket count (router/hash.ts, the DESIGN's assignment contract). */
const BUCKETS = 10_000;

/**
 * Expected shares of `[control, ...treatments]` at a treatment percent, exactly as the router
 * assigns (router/assignment.ts): the treatments hold the bucket prefix `[0, round(percent·100))`,
 * striped by `bucket mod k` over the treatments sorted by name. A prefix not divisible by k gives
 * some stripes one bucket more; at ten million units that bucket is worth an SRM alarm, so the
 * shares count buckets instead of dividing the percent by k.
 */
export function armShares(percent: number, treatments: readonly string[]): number[] {
  const end = Math.round(percent * (BUCKETS / 100));
  const k = treatments.length;
  const stripeOrder = [...treatments].sort();
  const stripe = (i: number) => (end > i ? Math.floor((end - 1 - i) / k) + 1 : 0);
  return [BUCKETS - end, ...treatments.map((t) => stripe(stripeOrder.indexOf(t)))].map((b) => b / BUCKETS);
}

/**
 * SRM of all arms (`[control, ...treatments]`, the order of `observed`) against the allocation
 * each unit was assigned under. With phases, every phase is tested against its own percent (a
 * ramp's phases must never be pooled), each at threshold ÷ phases so the family keeps the
 * threshold; a single bad phase alarms even when the combined statistic, diluted by healthy
 * phases, does not.
 */
export function splitCheckAllArms(
  spec: ExperimentSpec,
  data: DataSummary,
  control: string,
  treatments: readonly string[],
): SplitCheck {
  const threshold = spec.analysis.srmThreshold;
  const arms = [control, ...treatments];
  const units = (byArm: Record<string, { units: number }>) => arms.map((a) => byArm[a]?.units ?? 0);
  if (data.phases.length === 0) {
    const shares = armShares(spec.rollout.treatmentPercent, treatments);
    return { srm: srmTest(units(data.arms), shares, { threshold }), srmPhases: [] };
  }
  const phased = srmTestByPhase(
    data.phases.map((p) => ({
      label: `${p.percent} %`,
      expectedShares: armShares(p.percent, treatments),
      observed: units(p.arms),
    })),
    { threshold },
  );
  const perPhase = threshold / data.phases.length;
  const bad = phased.phases.filter((p) => p.pValue < perPhase);
  if (bad.length === 0) return { srm: phased.combined, srmPhases: phased.phases };
  return {
    srm: {
      ...phased.combined,
      alarm: true,
      reason: bad.map((p) => `allocation phase ${p.label}: p = ${p.pValue.toExponential(2)}`).join("; "),
    },
    srmPhases: phased.phases,
  };
}
