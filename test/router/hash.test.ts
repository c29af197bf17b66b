import mt19937 from "@stdlib/random-base-mt19937";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BUCKET_COUNT, bucketOf, murmur3 } from "../../router/hash.ts";
import { chisqSf } from "../../stats/distributions.ts";
import cases from "../fixtures/assignment-cases.json" with { type: "json" };

/** MurmurHash3 x86_32 written as plainly as the algorithm reads, one byte at a time. */
function referenceMurmur3(bytes: Uint8Array, seed: number): number {
  const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
  const mul = (a: number, b: number) => Math.imul(a, b) >>> 0;
  let h = seed >>> 0;
  let k = 0;
  for (let i = 0; i < bytes.length; i++) {
    k = (k | (bytes[i]! << (8 * (i % 4)))) >>> 0;
    if (i % 4 === 3) {
      h = (h ^ mul(rotl(mul(k, 0xcc9e2d51), 15), 0x1b873593)) >>> 0;
      h = (mul(rotl(h, 13), 5) + 0xe6546b64) >>> 0;
      k = 0;
    }
  }
  if (bytes.length % 4 !== 0) h = (h ^ mul(rotl(mul(k, 0xcc9e2d51), 15), 0x1b873593)) >>> 0;
  h = (h ^ bytes.length) >>> 0;
  h = mul(h ^ (h >>> 16), 0x85ebca6b);
  h = mul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

describe("murmur3", () => {
  it.each(cases.murmurVectors)("reproduces the published vector for $text with seed $seed", (vector) => {
    expect(murmur3(vector.text, vector.seed)).toBe(vector.hash);
  });
});

describe("bucketOf (hash version 1)", () => {
  it.each(cases.bucketCases)("pins the bucket of the case: $name", (pinned) => {
    expect(murmur3(`${pinned.salt}:${pinned.unitId}`)).toBe(pinned.hash);
    expect(bucketOf(pinned.salt, pinned.unitId, 1)).toBe(pinned.bucket);
  });

  it("uses version 1 when no version is given", () => {
    const [first] = cases.bucketCases;
    expect(bucketOf(first!.salt, first!.unitId)).toBe(first!.bucket);
  });

  it("rejects an unknown hash version, naming the versions it has", () => {
    expect(() => bucketOf("salt", "unit", 2 as 1)).toThrow(
      /unknown hash version 2: this router implements 1/,
    );
  });

  it("gives the same bucket, an integer in [0, 10000), every time for any salt and unit", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (salt, unitId) => {
        const bucket = bucketOf(salt, unitId);
        expect(Number.isInteger(bucket) && bucket >= 0 && bucket < BUCKET_COUNT).toBe(true);
        expect(bucketOf(salt, unitId)).toBe(bucket);
      }),
    );
  });

  it("agrees with a plain byte-by-byte MurmurHash3 of the UTF-8 encoding on any text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.nat(), (text, seed) => {
        expect(murmur3(text, seed)).toBe(referenceMurmur3(new TextEncoder().encode(text), seed));
      }),
    );
  });

  it("equals the plain MurmurHash3 of `salt:unitId` for any salt and unit, ASCII or not", () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: "binary" }));
    fc.assert(
      fc.property(text, text, (salt, unitId) => {
        const bytes = new TextEncoder().encode(`${salt}:${unitId}`);
        expect(bucketOf(salt, unitId)).toBe(referenceMurmur3(bytes, 0) % BUCKET_COUNT);
      }),
    );
  });

  it("spreads sequential ids uniformly over the buckets (chi-square over 100 bands and over bucket mod 6)", () => {
    const units = 200_000;
    const bands = new Array<number>(100).fill(0);
    const residues = new Array<number>(6).fill(0);
    for (let i = 0; i < units; i++) {
      const bucket = bucketOf("uniformity-salt", `user-${i}`);
      bands[Math.floor(bucket / 100)]! += 1;
      residues[bucket % 6]! += 1;
    }
    const chiSquare = (counts: number[]) => {
      const expected = units / counts.length;
      return counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    };
    expect(chisqSf(chiSquare(bands), 99)).toBeGreaterThan(1e-4);
    expect(chisqSf(chiSquare(residues), 5)).toBeGreaterThan(1e-4);
  });

  it("places the same unit independently under two salts", () => {
    const random = mt19937.factory({ seed: 11 });
    let same = 0;
    const units = 20_000;
    for (let i = 0; i < units; i++) {
      const unit = random().toString(16);
      if (bucketOf("salt-a", unit) < 5_000 === bucketOf("salt-b", unit) < 5_000) same += 1;
    }
    // Independent halves agree for half the units: within 5 standard deviations of 10,000.
    expect(Math.abs(same - units / 2)).toBeLessThan(5 * Math.sqrt(units / 4));
  });
});
