import mt19937 from "@stdlib/random-base-mt19937";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Arms,
  armsOf,
  assign,
  mirrorTargetForBucket,
  treatmentRange,
  variantForBucket,
} from "../../router/assignment.ts";
import { BUCKET_COUNT } from "../../router/hash.ts";
import cases from "../fixtures/assignment-cases.json" with { type: "json" };
import { extraVariant, routerSpec } from "./router-spec.ts";

const twoArms: Arms = { control: "control", treatments: ["treatment"] };
const threeTreatments: Arms = { control: "control", treatments: ["t1", "t2", "t3"] };

const percentArb = fc.integer({ min: 0, max: 10_000 }).map((hundredths) => hundredths / 100);
const armsArb = fc.constantFrom(twoArms, { control: "control", treatments: ["a", "b"] }, threeTreatments);

/** `count` unit ids drawn from a seeded generator, so a property run sees fresh, random ids. */
function randomIds(seed: number, count: number): string[] {
  const random = mt19937.factory({ seed: seed + 1 });
  return Array.from({ length: count }, () => `${random().toString(36)}-${random().toString(36)}`);
}

describe("assign", () => {
  it.each(cases.assignmentCases)("pins the named case: $name", (pinned) => {
    const arms = { control: pinned.control, treatments: [...pinned.treatments].sort() };
    const result = assign({
      salt: pinned.salt,
      unitId: pinned.unitId,
      treatmentPercent: pinned.treatmentPercent,
      arms,
      hashVersion: 1,
    });
    expect(result).toEqual({ bucket: pinned.bucket, variant: pinned.variant });
  });

  it("is deterministic: the same unit, salt and percent always get the same variant", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), percentArb, armsArb, (salt, unitId, percent, arms) => {
        const input = { salt, unitId, treatmentPercent: percent, arms };
        expect(assign(input)).toEqual(assign(input));
      }),
    );
  });

  it("is ramp-monotone: raising the percent only moves units from control into treatment", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), percentArb, percentArb, armsArb, (salt, unitId, p1, p2, arms) => {
        const [low, high] = p1 <= p2 ? [p1, p2] : [p2, p1];
        const before = assign({ salt, unitId, treatmentPercent: low, arms }).variant;
        const after = assign({ salt, unitId, treatmentPercent: high, arms }).variant;
        // A treated unit keeps its very treatment; only control units may change, and only into treatment.
        if (before !== arms.control) expect(after).toBe(before);
      }),
    );
  });

  it("splits 10,000 random ids within binomial bounds of the configured percent, equally among treatments", () => {
    const units = 10_000;
    fc.assert(
      fc.property(fc.nat(), fc.string(), percentArb, armsArb, (seed, salt, percent, arms) => {
        const counts = new Map<string, number>();
        for (const unitId of randomIds(seed, units)) {
          const { variant } = assign({ salt, unitId, treatmentPercent: percent, arms });
          counts.set(variant, (counts.get(variant) ?? 0) + 1);
        }
        // The configured share is exactly the prefix's share of the buckets.
        const [, end] = treatmentRange(percent);
        const perTreatment = end / BUCKET_COUNT / arms.treatments.length;
        for (const variant of [arms.control, ...arms.treatments]) {
          const p = variant === arms.control ? 1 - end / BUCKET_COUNT : perTreatment;
          const sd = Math.sqrt(units * p * (1 - p));
          expect(Math.abs((counts.get(variant) ?? 0) - units * p)).toBeLessThanOrEqual(5 * sd);
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe("treatmentRange", () => {
  it.each([
    { percent: 0, end: 0 },
    { percent: 10, end: 1000 },
    { percent: 12.34, end: 1234 },
    { percent: 0.01, end: 1 },
    { percent: 0.004, end: 0 },
    { percent: 100, end: 10_000 },
  ])("gives treatment the buckets [0, $end) at $percent %", ({ percent, end }) => {
    expect(treatmentRange(percent)).toEqual([0, end]);
  });

  it.each([-1, 100.5, Number.NaN])("rejects the percent %s, naming it", (percent) => {
    expect(() => treatmentRange(percent)).toThrow(
      `treatment percent must be a number in 0..100, got ${percent}`,
    );
  });
});

describe("variantForBucket", () => {
  it.each([-1, 10_000, 1.5])("rejects the bucket %s, naming it", (bucket) => {
    expect(() => variantForBucket(bucket, 50, twoArms)).toThrow(`got ${bucket}`);
  });

  it("stripes three treatments by bucket mod 3 inside the prefix", () => {
    expect([0, 1, 2, 3, 5999, 6000].map((bucket) => variantForBucket(bucket, 60, threeTreatments))).toEqual([
      "t1",
      "t2",
      "t3",
      "t1",
      "t3",
      "control",
    ]);
  });
});

describe("mirrorTargetForBucket", () => {
  it.each([
    { bucket: 0, mirrorPercent: 100, target: "treatment" },
    { bucket: 9_999, mirrorPercent: 100, target: "treatment" },
    { bucket: 2_499, mirrorPercent: 25, target: "treatment" },
    { bucket: 2_500, mirrorPercent: 25, target: undefined },
    { bucket: 0, mirrorPercent: 0, target: undefined },
  ])("mirrors bucket $bucket at $mirrorPercent % to $target", ({ bucket, mirrorPercent, target }) => {
    expect(mirrorTargetForBucket(bucket, mirrorPercent, twoArms)).toBe(target);
  });
});

describe("armsOf", () => {
  it("reads the control and the treatments of a parsed spec", () => {
    expect(armsOf(routerSpec())).toEqual({ control: "control", treatments: ["treatment"] });
  });

  it("orders treatments by name, so reordering the spec's variants reassigns nobody", () => {
    const spec = routerSpec([["variants", "aaa-brief"], extraVariant]);
    expect(Object.keys(spec.variants)).toEqual(["control", "treatment", "aaa-brief"]);
    expect(armsOf(spec).treatments).toEqual(["aaa-brief", "treatment"]);
  });

  it("names the variants it found when a spec has no control", () => {
    const spec = routerSpec();
    const broken = {
      variants: { ...spec.variants, control: { ...spec.variants.control!, role: "treatment" as const } },
    };
    expect(() => armsOf(broken)).toThrow(
      /one control and at least one treatment, got: control \(treatment\), treatment \(treatment\)/,
    );
  });
});
