import { describe, expect, it } from "vitest";
import { normQuantile } from "../../stats/distributions.ts";
import {
  crossingProbabilities,
  groupSequentialDesign,
  inflationFactor,
} from "../../stats/group-sequential.ts";
import type { SpendingKind } from "../../stats/spending.ts";
import reference from "../fixtures/sequential-reference.json" with { type: "json" };

const designs = reference.designs.map((d) => ({ ...d, spending: d.spending as SpendingKind }));

function solve(d: (typeof designs)[number]) {
  return groupSequentialDesign({ looks: d.looks, alpha: d.alpha, spending: d.spending });
}

function expectAllClose(actual: number[], expected: number[], tolerance: number) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    expect(Math.abs(a - expected[i]!), `element ${i}: ${a} vs ${expected[i]}`).toBeLessThanOrEqual(tolerance);
  });
}

describe("groupSequentialDesign", () => {
  it.each([
    {
      name: "O'Brien–Fleming type, 4 equal looks, two-sided 0.05 (gsDesign sfLDOF)",
      spending: "obrien-fleming" as const,
      looks: [0.25, 0.5, 0.75, 1],
      boundaries: [4.3326, 2.9631, 2.359, 2.0141],
    },
    {
      name: "Pocock type, 4 equal looks, two-sided 0.05",
      spending: "pocock" as const,
      looks: [0.25, 0.5, 0.75, 1],
      boundaries: [2.3683, 2.3675, 2.3582, 2.35],
    },
    {
      name: "O'Brien–Fleming type, looks at 0.2, 0.45, 0.7, 1",
      spending: "obrien-fleming" as const,
      looks: [0.2, 0.45, 0.7, 1],
      boundaries: [4.8769, 3.1438, 2.4515, 2.0011],
    },
  ])("reproduces the anchor boundaries for $name", ({ spending, looks, boundaries }) => {
    const design = groupSequentialDesign({ looks, alpha: 0.05, spending });
    expectAllClose(design.boundaries, boundaries, 1e-4);
  });

  it.each(designs)("matches the independent reference for $name", (d) => {
    const design = solve(d);
    expectAllClose(design.boundaries, d.boundaries, 1e-5);
    expectAllClose(design.cumulativeAlpha, d.cumulativeAlpha, 1e-14);
    expectAllClose(design.nominalPValues, d.nominalPValues, 1e-7);
    expect(design.looks).toEqual(d.looks);
    expect(design.alpha).toBe(d.alpha);
    expect(design.spending).toBe(d.spending);
  });

  it.each(designs)("spends exactly its alpha increments at the reference boundaries for $name", (d) => {
    // The fixture's crossing probabilities come from scipy's multivariate normal CDF, not a recursion.
    expectAllClose(d.crossingProbabilities, d.alphaIncrements, 1e-7);
    const { upper, lower } = crossingProbabilities(d.looks, d.boundaries, 0);
    expectAllClose(
      upper.map((u, k) => u + lower[k]!),
      d.crossingProbabilities,
      1e-6,
    );
  });

  it("makes a single look the fixed-horizon two-sided test", () => {
    const design = groupSequentialDesign({ looks: [1], alpha: 0.05, spending: "pocock" });
    expect(design.boundaries[0]).toBeCloseTo(-normQuantile(0.025), 10);
    expect(design.nominalPValues[0]).toBeCloseTo(0.05, 10);
  });

  it("gives a look whose spend underflows to zero an unreachable boundary instead of failing", () => {
    const design = groupSequentialDesign({ looks: [1e-4, 0.5, 1], alpha: 0.05, spending: "obrien-fleming" });
    expect(design.boundaries[0]).toBe(Number.POSITIVE_INFINITY);
    expect(design.nominalPValues[0]).toBe(0);
    expect(design.boundaries[2]).toBeGreaterThan(1.96);
  });

  it("snaps a final look that arrives as 0.9999999999 to 1", () => {
    const design = groupSequentialDesign({
      looks: [0.5, 1 - 1e-12],
      alpha: 0.05,
      spending: "obrien-fleming",
    });
    expect(design.looks).toEqual([0.5, 1]);
  });

  it.each([
    { looks: [], why: "no looks" },
    { looks: [0.5, 0.25, 1], why: "decreasing" },
    { looks: [0.5, 0.5, 1], why: "repeated" },
    { looks: [0.25, 0.5, 0.75], why: "not ending at 1" },
    { looks: [0, 0.5, 1], why: "a look at 0" },
    { looks: [0.5, 1.2], why: "past 1" },
  ])("refuses looks that are $why, quoting them", ({ looks }) => {
    expect(() => groupSequentialDesign({ looks, alpha: 0.05, spending: "pocock" })).toThrow(
      new RegExp(
        `strictly increasing information fractions in \\(0, 1\\] ending at 1; got \\[${looks.join(", ")}\\]`,
      ),
    );
  });

  it("refuses looks too close together to integrate accurately, naming them", () => {
    expect(() => groupSequentialDesign({ looks: [0.5, 0.5001, 1], alpha: 0.05, spending: "pocock" })).toThrow(
      /looks 0\.5 and 0\.5001 are closer than 0\.001 in information; merge them/,
    );
    // A gap of exactly 0.001 is allowed (the fixture holds such a design, checked against scipy).
    expect(() =>
      groupSequentialDesign({ looks: [0.3, 0.301, 1], alpha: 0.05, spending: "pocock" }),
    ).not.toThrow();
  });

  it("refuses an alpha outside (0, 1)", () => {
    expect(() => groupSequentialDesign({ looks: [0.5, 1], alpha: 5, spending: "pocock" })).toThrow(/alpha/);
  });
});

describe("crossingProbabilities", () => {
  it.each(reference.crossing)(
    "matches scipy's multivariate normal for boundaries $boundaries at drift $drift",
    ({ looks, boundaries, drift, upper, lower }) => {
      const ours = crossingProbabilities(looks, boundaries, drift);
      expectAllClose(ours.upper, upper, 1e-6);
      expectAllClose(ours.lower, lower, 1e-6);
    },
  );

  it("mirrors the sides when the drift changes sign", () => {
    const looks = [0.3, 0.6, 1];
    const boundaries = [2.8, 2.4, 2.1];
    const up = crossingProbabilities(looks, boundaries, 1.7);
    const down = crossingProbabilities(looks, boundaries, -1.7);
    expectAllClose(up.upper, down.lower, 1e-12);
    expectAllClose(up.lower, down.upper, 1e-12);
  });

  it("refuses a boundary list that does not match the looks", () => {
    expect(() => crossingProbabilities([0.5, 1], [2.5], 0)).toThrow(/one positive boundary per look \(2\)/);
  });
});

describe("inflationFactor", () => {
  const cases = designs.flatMap((d) => d.inflation.map((x) => ({ ...x, design: d, name: d.name })));

  it.each(cases)(
    "sizes $name for power $power like the reference (factor $inflationFactor)",
    ({ design, power, inflationFactor: expected, drift, upperCrossingAtDrift }) => {
      const solved = solve(design);
      expect(inflationFactor(solved, power)).toBeCloseTo(expected, 5);
      // At the reference drift the upper crossings (scipy's multivariate normal) add up to the power.
      expect(upperCrossingAtDrift.reduce((a, b) => a + b, 0)).toBeCloseTo(power, 7);
      expectAllClose(
        crossingProbabilities(design.looks, design.boundaries, drift).upper,
        upperCrossingAtDrift,
        1e-6,
      );
    },
  );

  it("is 1 for a single look and grows with early spending", () => {
    const single = groupSequentialDesign({ looks: [1], alpha: 0.05, spending: "obrien-fleming" });
    expect(inflationFactor(single, 0.8)).toBeCloseTo(1, 8);
    const looks = [0.25, 0.5, 0.75, 1];
    const obf = inflationFactor(
      groupSequentialDesign({ looks, alpha: 0.05, spending: "obrien-fleming" }),
      0.8,
    );
    const pocock = inflationFactor(groupSequentialDesign({ looks, alpha: 0.05, spending: "pocock" }), 0.8);
    expect(obf).toBeGreaterThan(1);
    expect(obf).toBeLessThan(1.03);
    expect(pocock).toBeGreaterThan(obf);
  });

  it.each([0.02, 1, Number.NaN])("refuses power %s", (power) => {
    const design = groupSequentialDesign({ looks: [0.5, 1], alpha: 0.05, spending: "pocock" });
    expect(() => inflationFactor(design, power)).toThrow(/power must be in \(0.025, 1\)/);
  });
});
