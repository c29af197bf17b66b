import { describe, expect, it } from "vitest";
import { type SegmentStats, simpsonCheck } from "../../stats/simpson.ts";
import reference from "../fixtures/misc-reference.json" with { type: "json" };

/** Charig et al. (1986): open surgery (treatment) beats PCNL (control) for small and large stones, loses pooled. */
const KIDNEY_STONES: SegmentStats[] = [
  { segment: "small", control: { n: 270, mean: 234 / 270 }, treatment: { n: 87, mean: 81 / 87 } },
  { segment: "large", control: { n: 80, mean: 55 / 80 }, treatment: { n: 263, mean: 192 / 263 } },
];

const BALANCED: SegmentStats[] = [
  { segment: "mobile", control: { n: 500, mean: 0.8 }, treatment: { n: 505, mean: 0.83 } },
  { segment: "desktop", control: { n: 300, mean: 0.7 }, treatment: { n: 295, mean: 0.72 } },
  { segment: "tablet", control: { n: 200, mean: 0.6 }, treatment: { n: 198, mean: 0.64 } },
];

describe("simpsonCheck", () => {
  it("flags the kidney-stone reversal: better in every segment, worse pooled, because of the mix", () => {
    const report = simpsonCheck("stone size", KIDNEY_STONES);
    expect(report.pooledEffect).toBeCloseTo(273 / 350 - 289 / 350, 12);
    const adjusted = (357 / 700) * (81 / 87 - 234 / 270) + (343 / 700) * (192 / 263 - 55 / 80);
    expect(report.adjustedEffect).toBeCloseTo(adjusted, 12);
    expect(report.reversal).toBe(true);
    expect(report.mixShift.shifted).toBe(true);
    expect(report.findings).toContain(
      'pooled effect -0.0457 but treatment is better in every segment of "stone size" (segment-adjusted effect +0.0537)',
    );
    expect(
      report.findings.some((f) => f.includes('"small" is 77.1% of control but 24.9% of treatment')),
    ).toBe(true);
  });

  it("reports each segment's effect and each arm's share of its units", () => {
    const [small, large] = simpsonCheck("stone size", KIDNEY_STONES).segments;
    expect(small).toEqual({
      segment: "small",
      effect: 81 / 87 - 234 / 270,
      controlShare: 270 / 350,
      treatmentShare: 87 / 350,
    });
    expect(large!.controlShare + small!.controlShare).toBeCloseTo(1, 15);
    expect(large!.treatmentShare + small!.treatmentShare).toBeCloseTo(1, 15);
  });

  it("flags nothing when the mix is balanced and every segment agrees with the pooled effect", () => {
    const report = simpsonCheck("device", BALANCED);
    expect(report.reversal).toBe(false);
    expect(report.mixShift.shifted).toBe(false);
    expect(report.findings).toEqual([]);
    expect(report.pooledEffect).toBeGreaterThan(0);
    expect(report.adjustedEffect).toBeGreaterThan(0);
  });

  it("flags a pooled effect whose sign the adjusted effect reverses even when not every segment disagrees", () => {
    const report = simpsonCheck("region", [
      { segment: "A", control: { n: 900, mean: 0.5 }, treatment: { n: 100, mean: 0.52 } },
      { segment: "B", control: { n: 100, mean: 0.9 }, treatment: { n: 900, mean: 0.85 } },
    ]);
    expect(report.pooledEffect).toBeCloseTo(0.277, 12);
    expect(report.adjustedEffect).toBeCloseTo(-0.015, 12);
    expect(report.reversal).toBe(true);
    expect(report.findings[0]).toBe(
      'pooled effect +0.277 but the effect adjusted for "region" is -0.015; report the adjusted effect',
    );
  });

  it("reports a mix shift without a reversal when the effects still agree in sign", () => {
    const report = simpsonCheck("tier", [
      { segment: "free", control: { n: 700, mean: 0.3 }, treatment: { n: 500, mean: 0.34 } },
      { segment: "paid", control: { n: 300, mean: 0.6 }, treatment: { n: 500, mean: 0.65 } },
    ]);
    expect(report.reversal).toBe(false);
    expect(report.mixShift.shifted).toBe(true);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatch(/^the arms' mix of "tier" differs \(chi-square/);
  });

  const contingency = reference.simpson.map((c) => ({
    ...c,
    segments: c.controlN.map(
      (n, i): SegmentStats => ({
        segment: `s${i}`,
        control: { n, mean: 0.5 },
        treatment: { n: c.treatmentN[i]!, mean: 0.5 },
      }),
    ),
  }));
  it.each(contingency)("matches scipy chi2_contingency(correction=False): $name", (c) => {
    const { mixShift } = simpsonCheck("fixture", c.segments);
    expect(Math.abs(mixShift.chi2 - c.chi2)).toBeLessThanOrEqual(1e-12 * c.chi2);
    expect(Math.abs(mixShift.pValue - c.pValue)).toBeLessThanOrEqual(1e-10 * c.pValue);
  });

  it("uses the mix alpha it is given", () => {
    const mild = contingency.find((c) => c.name.startsWith("four segments"))!;
    expect(mild.pValue).toBeGreaterThan(0.01);
    expect(mild.pValue).toBeLessThan(0.05);
    expect(simpsonCheck("plan", mild.segments).mixShift.shifted).toBe(false);
    expect(simpsonCheck("plan", mild.segments, { mixAlpha: 0.05 }).mixShift.shifted).toBe(true);
  });

  it("leaves a segment with units in one arm only out of the adjusted effect, and says so", () => {
    const report = simpsonCheck("region", [
      ...BALANCED,
      { segment: "kiosk", control: { n: 4, mean: 0.1 }, treatment: { n: 0, mean: Number.NaN } },
    ]);
    const withoutKiosk = simpsonCheck("region", BALANCED);
    expect(report.segments[3]!.effect).toBeNaN();
    expect(report.adjustedEffect).toBeCloseTo(withoutKiosk.adjustedEffect, 15);
    expect(report.findings).toContain(
      'segment "kiosk" of "region" has no treatment units, so it has no within-segment effect and is left out of the adjusted effect',
    );
  });

  it("has no mix to test with a single segment", () => {
    const report = simpsonCheck("all", [BALANCED[0]!]);
    expect(report.mixShift).toEqual({ chi2: 0, pValue: 1, shifted: false });
    expect(report.pooledEffect).toBeCloseTo(report.adjustedEffect, 15);
  });

  it.each([
    { why: "no segments", segments: [], message: /no segments given for "d"/ },
    {
      why: "a repeated segment",
      segments: [BALANCED[0]!, BALANCED[0]!],
      message: /"mobile" of "d" appears twice/,
    },
    {
      why: "a negative count",
      segments: [{ segment: "x", control: { n: -1, mean: 0 }, treatment: { n: 5, mean: 0 } }],
      message: /segment "x" control.n is -1/,
    },
    {
      why: "a missing mean in a non-empty arm",
      segments: [{ segment: "x", control: { n: 5, mean: 0.2 }, treatment: { n: 5, mean: Number.NaN } }],
      message: /segment "x" treatment.mean is NaN/,
    },
    {
      why: "an arm with no units anywhere",
      segments: [{ segment: "x", control: { n: 5, mean: 0.2 }, treatment: { n: 0, mean: 0 } }],
      message: /treatment has no units in any segment of "d"/,
    },
  ])("rejects $why with a RangeError that says so", ({ segments, message }) => {
    expect(() => simpsonCheck("d", segments)).toThrow(RangeError);
    expect(() => simpsonCheck("d", segments)).toThrow(message);
  });

  it.each([0, 1, Number.NaN])("rejects mixAlpha %s", (mixAlpha) => {
    expect(() => simpsonCheck("d", BALANCED, { mixAlpha })).toThrow(/mixAlpha/);
  });
});
