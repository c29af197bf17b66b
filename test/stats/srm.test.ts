import { describe, expect, it } from "vitest";
import { type SrmPhase, srmTest, srmTestByPhase } from "../../stats/srm.ts";
import reference from "../fixtures/misc-reference.json" with { type: "json" };

/** p-values are compared relatively: the interesting ones are tiny. */
function expectRelativelyClose(got: number, want: number, tolerance = 1e-10): void {
  expect(Math.abs(got - want)).toBeLessThanOrEqual(tolerance * Math.abs(want));
}

describe("srmTest", () => {
  it.each(reference.srm.single)("matches scipy chisquare: $name", (c) => {
    const result = srmTest(c.observed, c.expectedShares);
    expectRelativelyClose(result.chi2, c.chi2, 1e-12);
    expect(result.df).toBe(c.df);
    expectRelativelyClose(result.pValue, c.pValue);
    expect(result.alarm).toBe(c.alarm);
    expect(result.observed).toEqual(c.observed);
    c.expected.forEach((e, i) => {
      expectRelativelyClose(result.expected[i]!, e, 1e-12);
    });
    expect(result.threshold).toBe(0.001);
  });

  it("alarms on a 50/50 split that came out 5,000 vs 5,400 and not on 5,000 vs 5,050", () => {
    expect(srmTest([5000, 5400], [0.5, 0.5]).alarm).toBe(true);
    expect(srmTest([5000, 5050], [0.5, 0.5]).alarm).toBe(false);
  });

  it("normalises shares, so percentages, weights and fractions give the same test", () => {
    const byFraction = srmTest([9050, 950], [0.9, 0.1]);
    expect(srmTest([9050, 950], [90, 10])).toEqual(byFraction);
    expect(srmTest([9050, 950], [9, 1]).pValue).toBeCloseTo(byFraction.pValue, 14);
  });

  it("uses the threshold it is given", () => {
    const result = srmTest([5000, 5050], [1, 1], { threshold: 0.7 });
    expect(result.threshold).toBe(0.7);
    expect(result.alarm).toBe(true);
  });

  it("treats an arm with share 0 and no units as absent, leaving nothing to mismatch", () => {
    const result = srmTest([1000, 0], [1, 0]);
    expect(result).toMatchObject({ chi2: 0, df: 0, pValue: 1, alarm: false, expected: [1000, 0] });
  });

  it("alarms with certainty when units reach an arm whose share is 0", () => {
    const result = srmTest([1000, 3], [1, 0]);
    expect(result).toMatchObject({ chi2: Number.POSITIVE_INFINITY, pValue: 0, alarm: true });
  });

  it("drops zero-share arms from the degrees of freedom", () => {
    expect(srmTest([500, 520, 0], [1, 1, 0]).df).toBe(1);
  });

  it.each([
    {
      why: "mismatched lengths",
      observed: [10, 10],
      shares: [1, 1, 1],
      message: /2 arms but expectedShares has 3/,
    },
    { why: "a single arm", observed: [10], shares: [1], message: /at least two arms/ },
    { why: "a negative count", observed: [10, -1], shares: [1, 1], message: /observed\[1\] is -1/ },
    { why: "a fractional count", observed: [10.5, 10], shares: [1, 1], message: /observed\[0\] is 10.5/ },
    { why: "a zero total", observed: [0, 0], shares: [1, 1], message: /sum to 0/ },
    { why: "a negative share", observed: [10, 10], shares: [1, -1], message: /expectedShares\[1\]/ },
    { why: "shares summing to 0", observed: [10, 10], shares: [0, 0], message: /expectedShares sum to 0/ },
  ])("rejects $why with a RangeError that says so", ({ observed, shares, message }) => {
    expect(() => srmTest(observed, shares)).toThrow(RangeError);
    expect(() => srmTest(observed, shares)).toThrow(message);
  });

  it.each([0, 1, Number.NaN])("rejects threshold %s", (threshold) => {
    expect(() => srmTest([10, 10], [1, 1], { threshold })).toThrow(/threshold/);
  });
});

describe("srmTestByPhase", () => {
  it.each(reference.srm.phased)("matches scipy per phase and chi2.sf of the summed statistic: $name", (c) => {
    const result = srmTestByPhase(c.phases);
    expect(result.phases.map((p) => p.label)).toEqual(c.phases.map((p) => p.label));
    result.phases.forEach((phase, i) => {
      const want = c.perPhase[i]!;
      expectRelativelyClose(phase.chi2, want.chi2, 1e-12);
      expect(phase.df).toBe(want.df);
      expectRelativelyClose(phase.pValue, want.pValue);
      expect(phase.alarm).toBe(want.alarm);
    });
    expectRelativelyClose(result.combined.chi2, c.combined.chi2, 1e-12);
    expect(result.combined.df).toBe(c.combined.df);
    expectRelativelyClose(result.combined.pValue, c.combined.pValue);
    expect(result.combined.alarm).toBe(c.combined.alarm);
  });

  it("passes a healthy 10% → 50% ramp that a pooled test would flag", () => {
    const phases: SrmPhase[] = [
      { label: "10%", expectedShares: [0.9, 0.1], observed: [9000, 1010] },
      { label: "50%", expectedShares: [0.5, 0.5], observed: [5050, 4950] },
    ];
    expect(srmTestByPhase(phases).combined.alarm).toBe(false);
    expect(srmTest([14050, 5960], [0.5, 0.5]).alarm).toBe(true);
  });

  it("totals observed and phase-wise expected counts per arm in the combined result", () => {
    const { combined } = srmTestByPhase([
      { label: "10%", expectedShares: [0.9, 0.1], observed: [9000, 1000] },
      { label: "50%", expectedShares: [0.5, 0.5], observed: [5000, 5000] },
    ]);
    expect(combined.observed).toEqual([14000, 6000]);
    expect(combined.expected[0]).toBeCloseTo(14000, 9);
    expect(combined.expected[1]).toBeCloseTo(6000, 9);
    expect(combined).toMatchObject({ chi2: 0, df: 2, pValue: 1, alarm: false });
  });

  it("applies the threshold to every phase and to the combination", () => {
    const result = srmTestByPhase([{ label: "only", expectedShares: [1, 1], observed: [5000, 5050] }], {
      threshold: 0.7,
    });
    expect(result.phases[0]!.alarm).toBe(true);
    expect(result.combined.alarm).toBe(true);
  });

  it("rejects an empty list of phases", () => {
    expect(() => srmTestByPhase([])).toThrow(/no phases/);
  });

  it("rejects phases that list different arms, naming both", () => {
    const phases: SrmPhase[] = [
      { label: "a", expectedShares: [1, 1], observed: [10, 10] },
      { label: "b", expectedShares: [1, 1, 1], observed: [10, 10, 10] },
    ];
    expect(() => srmTestByPhase(phases)).toThrow(/phase "b" has 3 arms but phase "a" has 2/);
  });

  it("names the phase whose counts are invalid", () => {
    const phases: SrmPhase[] = [
      { label: "10%", expectedShares: [0.9, 0.1], observed: [900, 100] },
      { label: "50%", expectedShares: [0.5, 0.5], observed: [0, 0] },
    ];
    expect(() => srmTestByPhase(phases)).toThrow(/^phase "50%": observed counts sum to 0/);
  });
});
