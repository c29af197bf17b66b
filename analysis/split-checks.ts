/**
 * Checks that the arms are still comparable before any effect is read: the split of units
 * (SRM, per allocation phase when the data records phases) and the share of units that report
 * each primary outcome (a metric-level SRM: outcomes missing more in one arm bias the comparison).
 */
import type { ExperimentSpec } from "../spec/schema.ts";
import { armContingency } from "../stats/contingency.ts";
import { type SrmResult, srmTest, srmTestByPhase } from "../stats/srm.ts";
import type { DataSummary } from "./data-summary.ts";
import type { ArmStats } from "./metric-tests.ts";

export interface SplitCheck {
  srm: SrmResult & { reason?: string };
  srmPhases: (SrmResult & { label: string })[];
}

/**
 * SRM against the allocation each unit was assigned under. With phases, every phase is tested
 * against its own percent (a ramp's phases must never be pooled), each at threshold ÷ phases so
 * the family keeps the threshold; a single bad phase alarms even when the combined statistic,
 * diluted by healthy phases, does not.
 */
export function splitCheck(
  spec: ExperimentSpec,
  data: DataSummary,
  control: string,
  treatment: string,
): SplitCheck {
  const threshold = spec.analysis.srmThreshold;
  const units = (arms: Record<string, { units: number }>) => [
    arms[control]?.units ?? 0,
    arms[treatment]?.units ?? 0,
  ];
  if (data.phases.length === 0) {
    const share = spec.rollout.treatmentPercent / 100;
    return { srm: srmTest(units(data.arms), [1 - share, share], { threshold }), srmPhases: [] };
  }
  const phased = srmTestByPhase(
    data.phases.map((p) => ({
      label: `${p.percent} %`,
      expectedShares: [100 - p.percent, p.percent],
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

/**
 * For each primary metric, whether outcomes are missing at the same rate in both arms: the 2 × 2
 * table reported / missing × arm, by Pearson's chi-square, alarming at the SRM threshold.
 */
export function missingnessChecks(
  spec: ExperimentSpec,
  units: { control: number; treatment: number },
  metrics: { name: string; control: ArmStats; treatment: ArmStats }[],
): { metric: string; pValue: number; alarm: boolean }[] {
  return metrics.flatMap((m) => {
    const missing = { control: units.control - m.control.n, treatment: units.treatment - m.treatment.n };
    if (missing.control + missing.treatment <= 0) return [];
    const { pValue } = armContingency([{ control: m.control.n, treatment: m.treatment.n }, missing]);
    return [{ metric: m.name, pValue, alarm: pValue < spec.analysis.srmThreshold }];
  });
}
