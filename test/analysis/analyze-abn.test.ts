/**
 * A/B/n analysis: each treatment against control at alpha / k (the Bonferroni split the plan sized),
 * the spec's own correction inside each comparison, adjusted p-values × k, one SRM over all arms.
 */
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { aggregateData } from "../../analysis/aggregate.ts";
import { type AnalysisReport, runAnalysis } from "../../analysis/analyze.ts";
import { armShares, splitCheckAllArms } from "../../analysis/arm-split.ts";
import { compareArms } from "../../analysis/comparison.ts";
import { buildRequest, metricDefs } from "../../analysis/metric-tests.ts";
import { planExperiment } from "../../analysis/plan.ts";
import { armsOf, variantForBucket } from "../../router/assignment.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { groupSequentialDesign } from "../../stats/group-sequential.ts";
import { twoProportionZTest } from "../../stats/proportions.ts";
import { abnSpec, exactArm } from "../helpers/abn-data.ts";
import { generateUnits, tempDir, writeJsonl } from "../helpers/unit-data.ts";

const dir = tempDir("llm-ab-abn-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const comparison = (report: AnalysisReport, treatment: string) =>
  report.comparisons.find((c) => c.treatment === treatment)!;
const primaryOf = (report: AnalysisReport, treatment: string) =>
  comparison(report, treatment).metrics.find((m) => m.name === "resolution_rate" && m.role === "primary")!;

/**
 * Exact counts: control 2,400 of 4,000 resolved; treatment-a 2,100 of 3,000 (a clear win);
 * treatment-b 1,875 of 3,000, whose z-test p (≈ 0.034) lies between alpha / 2 and alpha.
 * Escalations: 10 % in control and treatment-a (p = 1, so its adjusted p is capped), 11 % in treatment-b.
 */
const borderline = [
  ...exactArm("control", 4000, 2400, 400, 1),
  ...exactArm("treatment-a", 3000, 2100, 300, 2),
  ...exactArm("treatment-b", 3000, 1875, 330, 3),
];

describe("analyze with two treatments", () => {
  it("ships the treatment with a real lift and not the one without, each compared with control", async () => {
    const records = generateUnits({
      control: { units: 4000, resolution: 0.6, tokens: 200 },
      "treatment-a": { units: 3000, resolution: 0.67, tokens: 200 },
      "treatment-b": { units: 3000, resolution: 0.6, tokens: 200 },
    }).map((r) => ({ ...r, metrics: { ...r.metrics, escalated: 0 } }));
    const report = await runAnalysis(abnSpec(), writeJsonl(dir, "lift.jsonl", records));
    expect(report.comparisons.map((c) => [c.treatment, c.verdict])).toEqual([
      ["treatment-a", "ship"],
      ["treatment-b", "inconclusive"],
    ]);
    expect(report.verdict).toBe("ship");
    expect(report.treatment).toBe("treatment-a");
    // The top-level evidence is the shipped comparison's, so readers of one comparison keep working.
    expect(report.metrics).toEqual(comparison(report, "treatment-a").metrics);
    expect(report.correction).toEqual({ comparisons: 2, alphaPerComparison: 0.025 });
    expect(report.reasons[0]).toMatch(/^ship treatment-a: .*Bonferroni over 2 treatments/);
    expect(report.reasons).toContain(
      `treatment-b: primary metric resolution_rate shows no significant effect (p = ${primaryOf(report, "treatment-b").pValue!.toPrecision(3)})`,
    );
  });

  it("does not count a p-value between alpha / 2 and alpha as significant", async () => {
    const byHand = twoProportionZTest({ n: 4000, successes: 2400 }, { n: 3000, successes: 1875 });
    expect(byHand.pValue).toBeGreaterThan(0.025);
    expect(byHand.pValue).toBeLessThan(0.05);
    const report = await runAnalysis(abnSpec(), writeJsonl(dir, "borderline.jsonl", borderline));
    const b = primaryOf(report, "treatment-b");
    expect(b.pValue).toBeCloseTo(byHand.pValue, 12);
    expect(b.status).toBe("flat");
    expect(comparison(report, "treatment-b").verdict).toBe("inconclusive");
    // Its interval is the 97.5 % one, which reaches below zero although the 95 % one would not.
    expect(byHand.ci[0]).toBeGreaterThan(0);
    expect(b.ci![0]).toBeLessThan(0);
    expect(report.verdict).toBe("ship");
    expect(report.treatment).toBe("treatment-a");
  });

  it("ships the same treatment-b data when it is the only treatment: the difference is the correction", async () => {
    // 3,000 / 7,000 of the units in treatment: 42.86 % keeps the split check quiet.
    const spec = abnSpec({
      rollout: { mode: "ab", treatmentPercent: 42.86 },
      variants: {
        control: { deployment: "chat" },
        "treatment-b": { deployment: "chat", systemPrompt: "Be brief." },
      },
    });
    const records = borderline.filter((r) => r.variant !== "treatment-a");
    const report = await runAnalysis(spec, writeJsonl(dir, "single.jsonl", records));
    expect(report.correction).toEqual({ comparisons: 1, alphaPerComparison: 0.05 });
    expect(report.comparisons).toHaveLength(1);
    expect(report.verdict).toBe("ship");
    expect(primaryOf(report, "treatment-b").status).toBe("win");
  });

  it("reports adjusted p-values equal to the within-comparison ones × 2, capped at 1", async () => {
    const spec = abnSpec();
    const path = writeJsonl(dir, "adjusted.jsonl", borderline);
    const report = await runAnalysis(spec, path);
    // The within-comparison analysis, run by hand through the same per-comparison function.
    const arms = ["control", "treatment-a", "treatment-b"];
    const data = await aggregateData(path, "jsonl", buildRequest(spec, metricDefs(spec), arms));
    const plan = planExperiment(spec);
    const { srm } = splitCheckAllArms(spec, data, "control", ["treatment-a", "treatment-b"]);
    let corrected = 0;
    for (const treatment of ["treatment-a", "treatment-b"]) {
      const within = compareArms(spec, data, "control", treatment, 0.025, { plan, srm });
      const reported = comparison(report, treatment).metrics;
      expect(reported.map((m) => m.pValue)).toEqual(within.metrics.map((m) => m.pValue));
      expect(reported.map((m) => m.adjustedPValue)).toEqual(
        within.metrics.map((m) => (m.adjustedPValue === null ? null : Math.min(1, 2 * m.adjustedPValue))),
      );
      // Benjamini–Hochberg across the two secondaries still applies inside the comparison.
      corrected += within.metrics.filter(
        (m) => m.role === "secondary" && m.adjustedPValue !== null && m.adjustedPValue > m.pValue!,
      ).length;
    }
    expect(corrected).toBeGreaterThan(0);
    expect(report.comparisons.flatMap((c) => c.metrics).some((m) => m.adjustedPValue === 1)).toBe(true);
  });

  it("holds each comparison to the sequential boundary of a design at alpha / 2", async () => {
    const spec = abnSpec({
      analysis: { sequential: { looks: [0.5, 1], spending: "obrien-fleming" } },
    });
    const report = await runAnalysis(spec, writeJsonl(dir, "sequential.jsonl", borderline));
    const design = groupSequentialDesign({ looks: [0.5, 1], alpha: 0.025, spending: "obrien-fleming" });
    for (const c of report.comparisons) {
      expect(c.progress).toMatchObject({ kind: "sequential", look: 2, boundary: design.boundaries[1] });
    }
    expect(comparison(report, "treatment-a").verdict).toBe("ship");
    expect(comparison(report, "treatment-b").verdict).toBe("inconclusive");
  });
});

describe("the split check with three arms", () => {
  it.each([
    ["passes a balanced 40/30/30 split", [4000, 3000, 3000], false],
    ["alarms when one treatment is short of its share", [4000, 3000, 2700], true],
    ["alarms when the treatments trade units though control is exact", [4000, 3200, 2800], true],
  ])("%s", async (_name, [c, a, b], alarm) => {
    const records = generateUnits({
      control: { units: c!, resolution: 0.6, tokens: 200 },
      "treatment-a": { units: a!, resolution: 0.6, tokens: 200 },
      "treatment-b": { units: b!, resolution: 0.6, tokens: 200 },
    }).map((r) => ({ ...r, metrics: { ...r.metrics, escalated: 0 } }));
    const report = await runAnalysis(abnSpec(), writeJsonl(dir, `srm-${c}-${a}-${b}.jsonl`, records));
    expect(report.arms).toEqual(["control", "treatment-a", "treatment-b"]);
    expect(report.srm.observed).toEqual([c, a, b]);
    expect(report.srm.df).toBe(2);
    const total = c! + a! + b!;
    expect(report.srm.expected).toEqual([0.4, 0.3, 0.3].map((share) => expect.closeTo(total * share, 9)));
    expect(report.srm.alarm).toBe(alarm);
    if (alarm) {
      expect(report.verdict).toBe("hold");
      expect(report.comparisons.every((x) => x.verdict === "hold")).toBe(true);
      expect(report.reasons[1]).toMatch(/^treatment-a, treatment-b: sample-ratio mismatch/);
    }
  });

  it("tests each allocation phase of a ramp against its own three-way split", async () => {
    const phase = (percent: number, units: [number, number, number], seed: number) =>
      generateUnits(
        {
          control: { units: units[0], resolution: 0.6, tokens: 200 },
          "treatment-a": { units: units[1], resolution: 0.6, tokens: 200 },
          "treatment-b": { units: units[2], resolution: 0.6, tokens: 200 },
        },
        seed,
      ).map((r) => ({
        ...r,
        unit: `${percent}-${r.unit}`,
        allocation: percent,
        metrics: { ...r.metrics, escalated: 0 },
      }));
    const healthy = [...phase(20, [8000, 1000, 1000], 1), ...phase(60, [4000, 3000, 3000], 2)];
    const ok = await runAnalysis(abnSpec(), writeJsonl(dir, "ramp-ok.jsonl", healthy));
    expect(ok.srmPhases.map((p) => [p.label, p.observed, p.df])).toEqual([
      ["20 %", [8000, 1000, 1000], 2],
      ["60 %", [4000, 3000, 3000], 2],
    ]);
    expect(ok.srm.alarm).toBe(false);
    // In the 20 % phase treatment-b got 700 units where 970 were due.
    const broken = [...phase(20, [8000, 1000, 700], 3), ...phase(60, [12000, 9000, 9000], 4)];
    const bad = await runAnalysis(abnSpec(), writeJsonl(dir, "ramp-bad.jsonl", broken));
    expect(bad.srm.alarm).toBe(true);
    expect(bad.verdict).toBe("hold");
    expect(bad.reasons.join("\n")).toMatch(/allocation phase 20 %/);
  });

  it.each([
    [10, ["b", "a", "c"]],
    [33.33, ["treatment-b", "treatment-a"]],
    [60, ["x"]],
    [99.99, ["z", "y", "x", "w"]],
  ])("expects at %f %% exactly the shares the router assigns to %j", (percent, treatments) => {
    const roles = [["control", { role: "control" }], ...treatments.map((t) => [t, { role: "treatment" }])];
    const arms = armsOf({ variants: Object.fromEntries(roles) as ExperimentSpec["variants"] });
    const counts = new Map<string, number>();
    for (let bucket = 0; bucket < 10_000; bucket++) {
      const variant = variantForBucket(bucket, percent, arms);
      counts.set(variant, (counts.get(variant) ?? 0) + 1);
    }
    const shares = armShares(percent, treatments);
    expect(shares).toEqual(["control", ...treatments].map((v) => (counts.get(v) ?? 0) / 10_000));
  });
});
