/**
 * Simpson's-paradox check: does the pooled effect tell a different story from the effects inside
 * the segments of one pre-treatment dimension (device, region, tenure, ramp phase)?
 *
 * The pooled difference of means mixes two things: the treatment effect within segments and any
 * difference in segment mix between the arms. When the mix differs (a ramp pooled across phases,
 * a triggered analysis, a filter the treatment influences), the pooled effect can even change sign.
 * The check compares the pooled effect with the standardised effect (segment effects weighted by
 * each segment's share of all units, the same weights for both arms) and tests the mix directly.
 */
import { armContingency } from "./contingency.ts";

/** Units and metric mean of one arm within one segment. */
export interface SegmentArm {
  n: number;
  mean: number;
}

/** Both arms' summaries within one segment. */
export interface SegmentStats {
  segment: string;
  control: SegmentArm;
  treatment: SegmentArm;
}

/** What the check found for one dimension. */
export interface SimpsonReport {
  dimension: string;
  /** Treatment mean − control mean over all segments pooled (n-weighted). */
  pooledEffect: number;
  /**
   * Segment effects weighted by the combined segment share (standardised / stratified), over the
   * segments where both arms have units; NaN when there is no such segment.
   */
  adjustedEffect: number;
  /** Per segment: treatment − control mean (NaN when an arm has no units there) and each arm's share of its units. */
  segments: { segment: string; effect: number; controlShare: number; treatmentShare: number }[];
  /** The pooled effect's sign differs from the adjusted effect's, or from every segment's effect. */
  reversal: boolean;
  /** Arm × segment contingency chi-square (no continuity correction); `shifted` when p < mixAlpha. */
  mixShift: { chi2: number; pValue: number; shifted: boolean };
  /** Sentences a person reads; empty when nothing is wrong. */
  findings: string[];
}

/** Options of {@link simpsonCheck}. */
export interface SimpsonOptions {
  /**
   * Flag a mix shift when the contingency p-value is below this. Default 0.001, the SRM threshold:
   * a segment-mix difference is a sample-ratio mismatch within segments and deserves the same bar.
   */
  mixAlpha?: number;
}

const DEFAULT_MIX_ALPHA = 0.001;

/**
 * Compares the pooled effect with the within-segment effects of one dimension and tests whether the
 * arms' segment mix differs.
 *
 * @throws RangeError when there are no segments, a segment name repeats, a count is negative or not
 * finite, a mean of a non-empty arm is not finite, an arm has no units at all, or mixAlpha is
 * outside (0, 1).
 */
export function simpsonCheck(
  dimension: string,
  segments: readonly SegmentStats[],
  opts: SimpsonOptions = {},
): SimpsonReport {
  const mixAlpha = opts.mixAlpha ?? DEFAULT_MIX_ALPHA;
  if (!(mixAlpha > 0 && mixAlpha < 1)) {
    throw new RangeError(`mixAlpha is ${mixAlpha}; it must be strictly between 0 and 1`);
  }
  validate(dimension, segments);

  const controlTotal = sumOf(segments, (s) => s.control.n);
  const treatmentTotal = sumOf(segments, (s) => s.treatment.n);
  const pooledEffect =
    sumOf(segments, (s) => weighted(s.treatment)) / treatmentTotal -
    sumOf(segments, (s) => weighted(s.control)) / controlTotal;

  const rows = segments.map((s) => ({
    segment: s.segment,
    effect: s.control.n > 0 && s.treatment.n > 0 ? s.treatment.mean - s.control.mean : Number.NaN,
    controlShare: s.control.n / controlTotal,
    treatmentShare: s.treatment.n / treatmentTotal,
  }));

  const comparable = segments.filter((s) => s.control.n > 0 && s.treatment.n > 0);
  const comparableUnits = sumOf(comparable, (s) => s.control.n + s.treatment.n);
  const adjustedEffect =
    comparable.length === 0
      ? Number.NaN
      : sumOf(comparable, (s) => (s.control.n + s.treatment.n) * (s.treatment.mean - s.control.mean)) /
        comparableUnits;

  const effects = rows.map((r) => r.effect).filter((e) => !Number.isNaN(e));
  const pooledSign = Math.sign(pooledEffect);
  const againstEverySegment =
    pooledSign !== 0 && effects.length > 0 && effects.every((e) => Math.sign(e) === -pooledSign);
  const againstAdjusted = pooledSign !== 0 && Math.sign(adjustedEffect) === -pooledSign;
  const reversal = againstEverySegment || againstAdjusted;

  const mix = mixChiSquare(segments);
  const mixShift = { chi2: mix.chi2, pValue: mix.pValue, shifted: mix.pValue < mixAlpha };

  const findings: string[] = [];
  if (againstEverySegment) {
    findings.push(
      `pooled effect ${signed(pooledEffect)} but treatment is ${pooledSign > 0 ? "worse" : "better"} in every segment of "${dimension}" (segment-adjusted effect ${signed(adjustedEffect)})`,
    );
  } else if (againstAdjusted) {
    findings.push(
      `pooled effect ${signed(pooledEffect)} but the effect adjusted for "${dimension}" is ${signed(adjustedEffect)}; report the adjusted effect`,
    );
  }
  if (mixShift.shifted) {
    const widest = rows.reduce((a, b) =>
      Math.abs(b.controlShare - b.treatmentShare) > Math.abs(a.controlShare - a.treatmentShare) ? b : a,
    );
    findings.push(
      `the arms' mix of "${dimension}" differs (chi-square ${mix.chi2.toFixed(1)}, df ${mix.df}, p ${formatP(mix.pValue)}): "${widest.segment}" is ${percent(widest.controlShare)} of control but ${percent(widest.treatmentShare)} of treatment, so the pooled effect mixes segment differences into the treatment effect`,
    );
  }
  for (const s of segments) {
    const missing = s.control.n === 0 ? "control" : s.treatment.n === 0 ? "treatment" : undefined;
    if (missing !== undefined && s.control.n + s.treatment.n > 0) {
      findings.push(
        `segment "${s.segment}" of "${dimension}" has no ${missing} units, so it has no within-segment effect and is left out of the adjusted effect`,
      );
    }
  }

  return { dimension, pooledEffect, adjustedEffect, segments: rows, reversal, mixShift, findings };
}

function validate(dimension: string, segments: readonly SegmentStats[]): void {
  if (segments.length === 0) {
    throw new RangeError(`no segments given for "${dimension}"; pass at least one`);
  }
  const seen = new Set<string>();
  for (const s of segments) {
    if (seen.has(s.segment)) {
      throw new RangeError(`segment "${s.segment}" of "${dimension}" appears twice; merge its rows first`);
    }
    seen.add(s.segment);
    for (const arm of ["control", "treatment"] as const) {
      const { n, mean } = s[arm];
      if (!(Number.isFinite(n) && n >= 0)) {
        throw new RangeError(
          `segment "${s.segment}" ${arm}.n is ${n}; unit counts must be finite and non-negative`,
        );
      }
      if (n > 0 && !Number.isFinite(mean)) {
        throw new RangeError(
          `segment "${s.segment}" ${arm}.mean is ${mean}; a non-empty arm needs a finite mean`,
        );
      }
    }
  }
  for (const arm of ["control", "treatment"] as const) {
    if (sumOf(segments, (s) => s[arm].n) === 0) {
      throw new RangeError(
        `${arm} has no units in any segment of "${dimension}"; there is nothing to compare`,
      );
    }
  }
}

/** Arm × segment chi-square of unit counts (stats/contingency.ts). */
function mixChiSquare(segments: readonly SegmentStats[]): { chi2: number; df: number; pValue: number } {
  return armContingency(segments.map((s) => ({ control: s.control.n, treatment: s.treatment.n })));
}

function weighted(arm: SegmentArm): number {
  return arm.n > 0 ? arm.n * arm.mean : 0;
}

function sumOf<T>(items: readonly T[], value: (item: T) => number): number {
  let s = 0;
  for (const item of items) s += value(item);
  return s;
}

/** Three significant digits with an explicit sign, so "+0.021" and "-0.045" read as effects. */
function signed(x: number): string {
  const rounded = Number(x.toPrecision(3));
  return rounded > 0 ? `+${rounded}` : `${rounded}`;
}

function formatP(p: number): string {
  return p < 1e-4 ? `= ${p.toExponential(1)}` : `= ${p.toPrecision(2)}`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}
