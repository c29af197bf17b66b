/**
 * What the analysis needs from unit-level data: per arm, the moments of each field and of the
 * pairs that ratio metrics and CUPED combine, plus per-segment means for the Simpson check.
 * Sufficient statistics are all the tests need, so ten million rows reduce to a few hundred
 * numbers before any statistics run.
 */

/** A data field: an outcome metric (`metrics.<name>`) or a pre-period covariate (`pre.<name>`). */
export interface FieldRef {
  kind: "metric" | "pre";
  name: string;
}

/** Two fields observed on the same units (ratio numerator/denominator, metric/covariate). */
export interface FieldPair {
  a: FieldRef;
  b: FieldRef;
}

export interface FieldMoments {
  /** Units with a value of the field. */
  n: number;
  mean: number;
  /** Sample variance (ddof = 1); 0 when n < 2. */
  variance: number;
}

export interface PairMoments {
  /** Units with both values. */
  n: number;
  meanA: number;
  meanB: number;
  varA: number;
  varB: number;
  /** Sample covariance (ddof = 1). */
  cov: number;
}

export interface ArmSummary {
  units: number;
  fields: Record<string, FieldMoments>;
  pairs: Record<string, PairMoments>;
}

export interface SegmentCell {
  units: number;
  /** Per metric field: n and mean within the segment. */
  fields: Record<string, { n: number; mean: number }>;
}

/** One allocation phase of a ramp: units first assigned while the treatment had `percent` %. */
export interface PhaseSummary {
  percent: number;
  /** variant → units and per-field moments within the phase. */
  arms: Record<string, { units: number; fields: Record<string, FieldMoments> }>;
}

export interface DataSummary {
  file: string;
  rows: number;
  arms: Record<string, ArmSummary>;
  /**
   * Allocation phases, from the optional per-record `allocation` field (the treatment percent in
   * force when the unit was first assigned), in increasing percent; empty when the data has none.
   */
  phases: PhaseSummary[];
  /** dimension → segment value → variant → cell. */
  segments: Record<string, Record<string, Record<string, SegmentCell>>>;
}

export interface DataRequest {
  variants: string[];
  fields: FieldRef[];
  pairs: FieldPair[];
  /** Metric fields whose values must be 0 or 1. */
  binary: string[];
  /** Metric fields summarised per segment (the primary metrics). */
  segmentFields: string[];
}

export const fieldKey = (f: FieldRef): string => `${f.kind === "metric" ? "metrics" : "pre"}.${f.name}`;
export const pairKey = (p: FieldPair): string => `${fieldKey(p.a)}|${fieldKey(p.b)}`;
