/**
 * The sample-size plan of an experiment: per primary metric the units each arm needs, the
 * duration at the expected daily traffic, and the group-sequential design when looks are
 * registered. `plan` prints it; `analyze` measures progress against it.
 *
 * Several primary metrics are an intersection–union test (the treatment ships only if all win),
 * so each is sized at the full alpha and the experiment needs the largest of them.
 *
 * Several treatments (A/B/n) are several comparisons with control, each of which could ship on
 * its own, so the family-wise error is held with Bonferroni: each comparison is sized (and its
 * sequential boundaries computed) at alpha / k. The treatments stripe the treatment percent
 * equally (router/assignment.ts), so each arm is sized at its own share against control's.
 */
import type { ExperimentSpec } from "../spec/schema.ts";
import { groupSequentialDesign, inflationFactor, type SequentialDesign } from "../stats/group-sequential.ts";
import {
  type ArmSizes,
  durationDays,
  mdeBinary,
  mdeContinuous,
  sampleSizeBinary,
  sampleSizeContinuous,
} from "../stats/sizing.ts";
import { controlVariant, treatmentVariants } from "./variants.ts";

type PrimaryMetric = ExperimentSpec["metrics"]["primary"][number];

export interface MetricPlan {
  name: string;
  kind: PrimaryMetric["kind"];
  /** The baseline and the effect the design is powered for, in the metric's unit. */
  baseline: number | null;
  target: number | null;
  /** Fixed-horizon units of control and of each treatment arm; `total` counts every arm. */
  fixed: ArmSizes;
  /** Units per arm at the last look (fixed × sequential inflation); equals `fixed` without looks. */
  max: ArmSizes;
  /** The larger arm's requirement, the number a reader compares first. */
  perArm: number;
  total: number;
  days: number | null;
  /**
   * The smallest effect (absolute, in the metric's unit) the design detects within
   * `analysis.maxDays` at the daily traffic; null without both.
   */
  mdeAtMaxDays: number | null;
}

export interface SequentialPlan extends SequentialDesign {
  inflation: number;
  /** Cumulative units (both arms) at each look, for the largest metric. */
  unitsAtLook: number[];
  daysAtLook: (number | null)[];
}

export interface ExperimentPlan {
  experiment: string;
  alpha: number;
  power: number;
  /** The treatment variants, in spec order; more than one is an A/B/n test. */
  treatments: string[];
  /** Alpha of each treatment-vs-control comparison: alpha / treatments (Bonferroni). */
  comparisonAlpha: number;
  /** Share of experiment units that go to the treatments together, as sized. */
  treatmentShare: number;
  dailyUnits: number | null;
  maxDays: number | null;
  metrics: MetricPlan[];
  sequential: SequentialPlan | null;
  notes: string[];
}

/**
 * Treatment share of live units: the rollout percent; 50 % for a shadow spec sized as a future A/B
 * test; for a bandit, its equal split.
 */
export function plannedTreatmentShare(spec: ExperimentSpec): { share: number; note?: string } {
  const percent = spec.rollout.treatmentPercent;
  if (spec.rollout.mode === "shadow") {
    return { share: 0.5, note: "shadow mode splits no live traffic: sized as a 50/50 A/B test" };
  }
  if (spec.rollout.mode === "bandit") {
    const arms = Object.keys(spec.variants).length;
    return {
      share: (arms - 1) / arms,
      note: `rollout.mode bandit moves the split while it learns, so no fixed horizon applies: sized as its burn-in's equal split of ${arms} arms, the units an A/B/n test would need for the same evidence (the bandit spends fewer on the worse arms, and its weighted estimates are somewhat less precise)`,
    };
  }
  if (percent <= 0) {
    return {
      share: 0.5,
      note: "rollout.treatmentPercent is 0, so no unit reaches the treatment yet: sized as a 50/50 A/B test",
    };
  }
  if (percent >= 100) {
    throw new RangeError("rollout.treatmentPercent is 100: no control units are left to compare against");
  }
  return { share: percent / 100 };
}

function targetOf(m: PrimaryMetric): { baseline: number; delta: number } {
  const baseline = m.baseline ?? 0;
  const magnitude = m.mde ?? (m.relativeMde ?? 0) * baseline;
  return { baseline, delta: m.direction === "decrease" ? -magnitude : magnitude };
}

function sizeMetric(m: PrimaryMetric, alpha: number, power: number, ratio: number): ArmSizes {
  const { baseline, delta } = targetOf(m);
  const opts = { alpha, power, ratio };
  if (m.kind === "binary") return sampleSizeBinary(baseline, baseline + delta, opts);
  if (m.sd === undefined) {
    throw new RangeError(`metrics.primary "${m.name}": a ${m.kind} metric needs sd to be sized`);
  }
  return sampleSizeContinuous(m.sd, Math.abs(delta), opts);
}

/** Inverse sizing: the effect reachable with `nControl` control units (binary decreases mirror p → 1 − p). */
function reachableMde(
  m: PrimaryMetric,
  nControl: number,
  alpha: number,
  power: number,
  ratio: number,
): number {
  const opts = { alpha, power, ratio };
  if (m.kind === "binary") {
    const p0 = m.baseline ?? 0;
    return m.direction === "decrease" ? mdeBinary(1 - p0, nControl, opts) : mdeBinary(p0, nControl, opts);
  }
  return mdeContinuous(m.sd ?? 0, nControl, opts);
}

/** The reachable MDE, or null when no effect within the metric's range is detectable with that many units. */
function safeMde(
  m: PrimaryMetric,
  nControl: number,
  alpha: number,
  power: number,
  ratio: number,
): number | null {
  if (nControl < 2) return null;
  try {
    return reachableMde(m, nControl, alpha, power, ratio);
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}

/** Arm sizes times `factor`, the total counting `arms` treatment arms. */
const inflate = (fixed: ArmSizes, factor: number, arms: number): ArmSizes => {
  const control = Math.ceil(fixed.control * factor);
  const treatment = Math.ceil(fixed.treatment * factor);
  return { control, treatment, total: control + arms * treatment };
};

export function planExperiment(spec: ExperimentSpec, opts: { dailyUnits?: number } = {}): ExperimentPlan {
  controlVariant(spec);
  const treatments = treatmentVariants(spec);
  const arms = treatments.length;
  const { alpha, power } = spec.analysis;
  const comparisonAlpha = alpha / arms;
  const { share, note } = plannedTreatmentShare(spec);
  // Each treatment arm against control: its stripe of the treatment share over control's share.
  const ratio = share / arms / (1 - share);
  const dailyUnits = opts.dailyUnits ?? spec.analysis.dailyUnits ?? null;
  const design = spec.analysis.sequential
    ? groupSequentialDesign({
        looks: spec.analysis.sequential.looks,
        alpha: comparisonAlpha,
        spending: spec.analysis.sequential.spending,
      })
    : null;
  const factor = design ? inflationFactor(design, power) : 1;
  const days = (total: number) => (dailyUnits ? durationDays(total, dailyUnits) : null);
  const maxDays = spec.analysis.maxDays ?? null;
  // Control units available by maxDays, after the sequential design's inflation of the maximum sample.
  const controlByMaxDays =
    dailyUnits && maxDays ? Math.floor((dailyUnits * maxDays * (1 - share)) / factor) : null;
  const notes = note ? [note] : [];
  if (arms > 1) {
    notes.push(
      `${arms} treatments, each compared with control at alpha ${alpha}/${arms} = ${Number(comparisonAlpha.toPrecision(4))} (Bonferroni, so the chance of shipping any useless treatment stays at ${alpha}); each arm gets ${Number(((100 * share) / arms).toPrecision(4))} % of units`,
    );
  }

  const metrics = spec.metrics.primary.map((m): MetricPlan => {
    const one = sizeMetric(m, comparisonAlpha, power, ratio);
    const fixed = { ...one, total: one.control + arms * one.treatment };
    const max = inflate(fixed, factor, arms);
    const { baseline, delta } = targetOf(m);
    return {
      name: m.name,
      kind: m.kind,
      baseline: m.baseline ?? null,
      target: m.baseline === undefined ? null : baseline + delta,
      fixed,
      max,
      perArm: Math.max(max.control, max.treatment),
      total: max.total,
      days: days(max.total),
      mdeAtMaxDays:
        controlByMaxDays !== null ? safeMde(m, controlByMaxDays, comparisonAlpha, power, ratio) : null,
    };
  });
  const largest = Math.max(...metrics.map((m) => m.total));
  const sequential: SequentialPlan | null = design
    ? {
        ...design,
        inflation: factor,
        unitsAtLook: design.looks.map((t) => Math.ceil(t * largest)),
        daysAtLook: design.looks.map((t) => days(Math.ceil(t * largest))),
      }
    : null;
  return {
    experiment: spec.name,
    alpha,
    power,
    treatments,
    comparisonAlpha,
    treatmentShare: share,
    dailyUnits,
    maxDays,
    metrics,
    sequential,
    notes: [
      ...notes,
      ...metrics
        .filter((m) => maxDays !== null && m.days !== null && m.days > maxDays)
        .map(
          (m) =>
            `${m.name} needs ${m.days} days, more than analysis.maxDays (${maxDays}); within ${maxDays} days it can detect ${m.mdeAtMaxDays?.toPrecision(3)} (absolute): raise traffic or the treatment share, or accept that effect`,
        ),
    ],
  };
}
