/**
 * Pure assignment: which variant a bucket falls into for a given treatment percent.
 *
 * Treatment holds a prefix of the bucket range, `[0, round(percent × 100))`, and control the rest.
 * Raising the percent only extends the prefix, so a ramp moves units from control into treatment
 * and never back. With several treatments the prefix is striped (`bucket mod k` picks the
 * treatment) rather than cut into k sub-ranges: sub-ranges would shift as the prefix grows and
 * move units from one treatment to another during a ramp, stripes never do. Treatments are ordered
 * by name, so reordering the spec's variants does not reassign anyone.
 */
import type { ExperimentSpec } from "../spec/schema.ts";
import { BUCKET_COUNT, type Bucket, bucketOf, type HashVersion } from "./hash.ts";

/** Half-open range of buckets `[start, end)`. */
export type BucketRange = [start: Bucket, end: Bucket];

/** The variants a unit can be assigned to. */
export interface Arms {
  /** Name of the control variant. */
  readonly control: string;
  /** Names of the treatment variants, at least one, in stripe order (sorted by name by `armsOf`). */
  readonly treatments: readonly string[];
}

/** The arms of a spec: its control and its treatments sorted by name. */
export function armsOf(spec: Pick<ExperimentSpec, "variants">): Arms {
  const entries = Object.entries(spec.variants);
  const control = entries.find(([, variant]) => variant.role === "control")?.[0];
  const treatments = entries
    .filter(([, variant]) => variant.role === "treatment")
    .map(([name]) => name)
    .sort();
  if (control === undefined || treatments.length === 0) {
    const names = entries.map(([name, variant]) => `${name} (${variant.role})`).join(", ");
    throw new Error(
      `spec variants need one control and at least one treatment, got: ${names || "none"}; load the spec through parseSpec so it is validated`,
    );
  }
  return { control, treatments };
}

/**
 * Buckets `[0, end)` given to treatment at `percent` (0–100, resolved to 0.01 % steps by rounding).
 * Throws a RangeError naming the value when it is outside 0–100 or not a number.
 */
export function treatmentRange(percent: number): BucketRange {
  if (!(percent >= 0 && percent <= 100)) {
    throw new RangeError(`treatment percent must be a number in 0..100, got ${String(percent)}`);
  }
  return [0, Math.round(percent * (BUCKET_COUNT / 100))];
}

/** Checks that a bucket is an integer in [0, BUCKET_COUNT), naming the bad value otherwise. */
function checkBucket(bucket: Bucket): void {
  if (!Number.isInteger(bucket) || bucket < 0 || bucket >= BUCKET_COUNT) {
    throw new RangeError(`bucket must be an integer in [0, ${BUCKET_COUNT}), got ${String(bucket)}`);
  }
}

/** The treatment owning `bucket` inside the treatment prefix (its stripe). */
function stripe(bucket: Bucket, arms: Arms): string {
  const treatment = arms.treatments[bucket % arms.treatments.length];
  if (treatment === undefined) throw new Error("arms.treatments must not be empty");
  return treatment;
}

/** The variant of `bucket` when `percent` of units go to treatment (split equally among treatments). */
export function variantForBucket(bucket: Bucket, percent: number, arms: Arms): string {
  checkBucket(bucket);
  const [, end] = treatmentRange(percent);
  return bucket < end ? stripe(bucket, arms) : arms.control;
}

/**
 * The treatment a shadow-mode unit's requests are mirrored to, or undefined when its bucket is
 * outside the mirrored `mirrorPercent`. Uses the same prefix and stripes as assignment, so raising
 * the mirror percent only adds units and a unit always mirrors to the same treatment.
 */
export function mirrorTargetForBucket(bucket: Bucket, mirrorPercent: number, arms: Arms): string | undefined {
  checkBucket(bucket);
  const [, end] = treatmentRange(mirrorPercent);
  return bucket < end ? stripe(bucket, arms) : undefined;
}

/** Everything `assign` needs to place one unit. */
export interface AssignInput {
  readonly salt: string;
  readonly unitId: string;
  /** Percent of units in treatment, 0–100. */
  readonly treatmentPercent: number;
  readonly arms: Arms;
  /** Default 1. */
  readonly hashVersion?: HashVersion;
}

/** A unit's bucket and the variant it falls into. */
export interface Assignment {
  readonly bucket: Bucket;
  readonly variant: string;
}

/** Hashes the unit and places it: pure and deterministic, the same answer in every replica. */
export function assign(input: AssignInput): Assignment {
  const bucket = bucketOf(input.salt, input.unitId, input.hashVersion ?? 1);
  return { bucket, variant: variantForBucket(bucket, input.treatmentPercent, input.arms) };
}
