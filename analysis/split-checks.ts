/**
 * Checks that the arms are still comparable before any effect is read: the share of units that
 * report each primary outcome (a metric-level SRM: outcomes missing more in one arm bias the
 * comparison). The split of units itself (SRM over every arm) is in arm-split.ts.
 */
import type { ExperimentSpec } from "../spec/schema.ts";
import { armContingency } from "../stats/contingency.ts";
import type { SrmResult } from "../stats/srm.ts";
import type { ArmStats } from "./metric-tests.ts";

export interface SplitCheck {
  srm: SrmResult & { reason?: string };
  srmPhases: (SrmResult & { label: string })[];
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
