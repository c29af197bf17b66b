import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Alternative,
  durationDays,
  mdeBinary,
  mdeContinuous,
  type SizingOptions,
  sampleSizeBinary,
  sampleSizeContinuous,
} from "../../stats/sizing.ts";
import { loadFixture } from "../helpers/reference.ts";

interface Common {
  alpha: number;
  power: number;
  alternative: Alternative;
  ratio: number;
}
interface BinaryCase extends Common {
  p0: number;
  p1: number;
  source: string;
  control: number;
  treatment: number;
  total: number;
}
interface ContinuousCase extends Common {
  sd: number;
  delta: number;
  control: number;
  treatment: number;
}
interface MdeBinaryCase extends Common {
  p0: number;
  nControl: number;
  mde: number;
}
interface MdeContinuousCase extends Common {
  sd: number;
  nControl: number;
  mde: number;
}

const reference = loadFixture<{
  sizing: {
    binary: BinaryCase[];
    continuous: ContinuousCase[];
    mdeBinary: MdeBinaryCase[];
    mdeContinuous: MdeContinuousCase[];
  };
}>("tests-reference.json");

const opts = ({ alpha, power, alternative, ratio }: Common): SizingOptions => ({
  alpha,
  power,
  alternative,
  ratio,
});

const sizingOptions = fc.record({
  alpha: fc.constantFrom(0.01, 0.05, 0.1),
  power: fc.constantFrom(0.5, 0.8, 0.9, 0.95),
  ratio: fc.constantFrom(0.25, 0.5, 1, 1.5, 3),
  alternative: fc.constantFrom<Alternative>("two-sided", "one-sided"),
});

describe("sampleSizeBinary", () => {
  it("needs 1,471 conversations per arm (2,942 in total) to detect a resolution rate rising from 0.60 to 0.65", () => {
    expect(sampleSizeBinary(0.6, 0.65, { alpha: 0.05, power: 0.8 })).toEqual({
      control: 1471,
      treatment: 1471,
      total: 2942,
    });
  });

  it("needs 18,672 conversations in total to detect 0.60 rising to 0.62", () => {
    expect(sampleSizeBinary(0.6, 0.62, { alpha: 0.05, power: 0.8 }).total).toBe(18_672);
  });

  it.each(reference.sizing.binary)(
    "sizes $p0 → $p1 at α $alpha, power $power, $alternative, ratio $ratio exactly as $source",
    (c) => {
      expect(sampleSizeBinary(c.p0, c.p1, opts(c))).toEqual({
        control: c.control,
        treatment: c.treatment,
        total: c.total,
      });
    },
  );

  it("needs more units as the detectable effect shrinks", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 0.9, noNaN: true }),
        fc.double({ min: 0.001, max: 0.09, noNaN: true }),
        fc.double({ min: 1.01, max: 3, noNaN: true }),
        sizingOptions,
        (p0, bigger, shrink, o) => {
          const smaller = bigger / shrink;
          expect(sampleSizeBinary(p0, p0 + smaller, o).control).toBeGreaterThanOrEqual(
            sampleSizeBinary(p0, p0 + bigger, o).control,
          );
        },
      ),
    );
  });
});

describe("sampleSizeContinuous", () => {
  it.each(reference.sizing.continuous)(
    "sizes a shift of $delta with sd $sd at α $alpha, power $power, $alternative, ratio $ratio as statsmodels NormalIndPower",
    (c) => {
      expect(sampleSizeContinuous(c.sd, c.delta, opts(c))).toEqual({
        control: c.control,
        treatment: c.treatment,
        total: c.control + c.treatment,
      });
    },
  );

  it("needs more units as the detectable shift shrinks", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 1000, noNaN: true }),
        fc.double({ min: 0.001, max: 10, noNaN: true }),
        fc.double({ min: 1.001, max: 3, noNaN: true }),
        sizingOptions,
        (sd, bigger, shrink, o) => {
          expect(sampleSizeContinuous(sd, bigger / shrink, o).control).toBeGreaterThanOrEqual(
            sampleSizeContinuous(sd, bigger, o).control,
          );
        },
      ),
    );
  });
});

describe("mdeBinary", () => {
  it.each(reference.sizing.mdeBinary)(
    "finds the effect statsmodels finds for p0 $p0 with $nControl control units ($alternative, ratio $ratio)",
    (c) => {
      const mde = mdeBinary(c.p0, c.nControl, opts(c));
      expect(Math.abs(mde - c.mde)).toBeLessThanOrEqual(1e-9 * c.mde);
    },
  );

  it("returns an effect whose sizing fits in the units given, and no smaller effect does", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.005, max: 0.95, noNaN: true }),
        fc.integer({ min: 10, max: 2_000_000 }),
        sizingOptions,
        (p0, n, o) => {
          let mde: number;
          try {
            mde = mdeBinary(p0, n, o);
          } catch (error) {
            // Too few units to detect any rise from p0 is a documented RangeError, not a failure.
            expect(error).toBeInstanceOf(RangeError);
            return;
          }
          expect(mde).toBeGreaterThan(0);
          expect(p0 + mde).toBeLessThan(1);
          expect(sampleSizeBinary(p0, p0 + mde, o).control).toBeLessThanOrEqual(n);
          expect(sampleSizeBinary(p0, p0 + 0.99 * mde, o).control).toBeGreaterThan(n);
        },
      ),
    );
  });

  it("rejects a control arm too small to detect even a rise to 1", () => {
    expect(() => mdeBinary(0.5, 5, { alpha: 0.05, power: 0.8 })).toThrow(/cannot detect any rise/);
  });

  it("floors a fractional unit count", () => {
    const o = { alpha: 0.05, power: 0.8 };
    expect(mdeBinary(0.6, 1471.9, o)).toBe(mdeBinary(0.6, 1471, o));
  });
});

describe("mdeContinuous", () => {
  it.each(reference.sizing.mdeContinuous)(
    "finds the normal closed-form shift for sd $sd with $nControl control units ($alternative, ratio $ratio)",
    (c) => {
      const mde = mdeContinuous(c.sd, c.nControl, opts(c));
      expect(Math.abs(mde - c.mde)).toBeLessThanOrEqual(1e-9 * c.mde);
    },
  );

  it("returns a shift whose sizing fits in the units given, and no smaller shift does", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 1e4, noNaN: true }),
        fc.integer({ min: 2, max: 10_000_000 }),
        sizingOptions,
        (sd, n, o) => {
          const mde = mdeContinuous(sd, n, o);
          expect(sampleSizeContinuous(sd, mde, o).control).toBeLessThanOrEqual(n);
          expect(sampleSizeContinuous(sd, 0.99 * mde, o).control).toBeGreaterThan(n);
        },
      ),
    );
  });
});

describe("durationDays", () => {
  it.each([
    { total: 2942, daily: 1000, fraction: 0.1, days: 30, why: "29.42 days round up to whole days" },
    { total: 2942, daily: 1000, fraction: 1, days: 3, why: "full exposure is the default" },
    {
      total: 1000,
      daily: 100,
      fraction: 0.1,
      days: 100,
      why: "0.1 not being exact in binary does not add a day",
    },
    {
      total: 300,
      daily: 1000,
      fraction: 0.3,
      days: 1,
      why: "exactly one day's exposed traffic takes one day",
    },
    { total: 0, daily: 50, fraction: 0.5, days: 0, why: "nothing to collect takes no time" },
  ])("takes $days days for $total units at $daily a day with $fraction exposed: $why", (c) => {
    expect(durationDays(c.total, c.daily, c.fraction)).toBe(c.days);
  });
});

describe("input validation", () => {
  const ok: SizingOptions = { alpha: 0.05, power: 0.8 };
  it.each([
    { name: "p0 of 0", run: () => sampleSizeBinary(0, 0.1, ok), message: /p0 must be a proportion/ },
    { name: "p1 of 1", run: () => sampleSizeBinary(0.5, 1, ok), message: /p1 must be a proportion/ },
    { name: "p1 equal to p0", run: () => sampleSizeBinary(0.5, 0.5, ok), message: /must differ/ },
    { name: "alpha of 0", run: () => sampleSizeBinary(0.5, 0.6, { ...ok, alpha: 0 }), message: /alpha/ },
    { name: "alpha of 1", run: () => sampleSizeContinuous(1, 1, { ...ok, alpha: 1 }), message: /alpha/ },
    {
      name: "one-sided alpha of 0.6",
      run: () => sampleSizeContinuous(1, 1, { ...ok, alpha: 0.6, alternative: "one-sided" }),
      message: /alpha/,
    },
    { name: "power of 1", run: () => sampleSizeBinary(0.5, 0.6, { ...ok, power: 1 }), message: /power/ },
    { name: "power below 0.5", run: () => mdeContinuous(1, 100, { ...ok, power: 0.3 }), message: /power/ },
    { name: "ratio of 0", run: () => sampleSizeBinary(0.5, 0.6, { ...ok, ratio: 0 }), message: /ratio/ },
    { name: "sd of 0", run: () => sampleSizeContinuous(0, 1, ok), message: /sd must be/ },
    { name: "delta of 0", run: () => sampleSizeContinuous(1, 0, ok), message: /delta must be/ },
    { name: "nControl of 0", run: () => mdeContinuous(1, 0, ok), message: /nControl/ },
    { name: "nControl of NaN", run: () => mdeBinary(0.5, Number.NaN, ok), message: /nControl/ },
    { name: "exposedFraction above 1", run: () => durationDays(10, 10, 1.5), message: /exposedFraction/ },
    { name: "no daily traffic", run: () => durationDays(10, 0), message: /dailyUnits/ },
    { name: "a negative total", run: () => durationDays(-1, 10), message: /total/ },
  ])("throws a RangeError for $name", ({ run, message }) => {
    expect(run).toThrow(RangeError);
    expect(run).toThrow(message);
  });
});
