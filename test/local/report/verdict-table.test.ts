import { beforeAll, describe, expect, it } from "vitest";
import type { AnalysisReport } from "../../../analysis/analyze.ts";
import {
  designSummary,
  reportedSummary,
  srmSummary,
  statusTone,
  type Tone,
  verdictRows,
} from "../../../local/report/verdict-table.ts";
import { demoResultFixture } from "../demo-result-fixture.ts";

let analysis: AnalysisReport;
beforeAll(async () => {
  analysis = (await demoResultFixture()).analysis!;
});

describe("verdictRows", () => {
  it("gives one row per metric, in the analysis' order", () => {
    expect(verdictRows(analysis).map((r) => [r.metric, r.role])).toEqual(
      analysis.metrics.map((m) => [m.name, m.role]),
    );
  });

  it("reads a rate as percentages and its effect in points, with the interval in the same unit", () => {
    const m = analysis.metrics.find((x) => x.name === "resolution_rate")!;
    const row = verdictRows(analysis).find((r) => r.metric === "resolution_rate")!;
    expect(row.control).toBe(`${(100 * m.control.mean!).toFixed(1)} % (n ${m.control.n})`);
    const pp = (x: number) => `${x < 0 ? "−" : "+"}${Math.abs(100 * x).toFixed(1)}`;
    expect(row.effect).toBe(
      `${pp(m.effect!)} pp [${pp(m.ci![0])}, ${pp(m.ci![1])}] (+${(100 * m.relativeLift!).toFixed(1)} %)`,
    );
    expect(row.tone).toBe("good");
  });

  it("shows a dash, not a zero, for a metric measured only live", () => {
    const row = verdictRows(analysis).find((r) => r.metric === "ttft_p95_seconds")!;
    expect([row.control, row.treatment, row.effect, row.p, row.adjustedP]).toEqual(["–", "–", "–", "–", "–"]);
    expect(row.status).toBe("live only");
  });
});

describe("statusTone", () => {
  it.each<[string, Tone]>([
    ["win", "good"],
    ["pass", "good"],
    ["loss", "bad"],
    ["breached", "bad"],
    ["flat", "neutral"],
    ["early", "neutral"],
    ["no data", "neutral"],
    ["inconclusive", "neutral"],
    ["live only", "neutral"],
  ])("reads %s as %s", (status, tone) => {
    expect(statusTone(status)).toBe(tone);
  });
});

describe("srmSummary and designSummary", () => {
  it("names the counts, the p-value and whether the split alarms", () => {
    expect(srmSummary(analysis)).toMatch(
      /^Split: control 300 \(expected 300\), treatment 300 \(expected 300\); χ² 0\.00, p 1\.000: no sample-ratio mismatch/,
    );
    const alarmed = { ...analysis, srm: { ...analysis.srm, pValue: 1e-6, alarm: true } };
    expect(srmSummary(alarmed)).toMatch(/p < 0\.0001: sample-ratio mismatch/);
  });

  it.each<[string, AnalysisReport["progress"], string]>([
    [
      "a fixed horizon",
      { kind: "fixed", informationFraction: 0.5, look: null, looks: [1], boundary: null },
      "Progress: 50 % of the planned information, fixed horizon",
    ],
    [
      "a sequential design before its first look",
      { kind: "sequential", informationFraction: 0.1, look: null, looks: [0.25, 0.5, 1], boundary: null },
      "Progress: 10 % of the planned information, before the first registered look (0.25, 0.5, 1)",
    ],
    [
      "a registered look with its boundary",
      { kind: "sequential", informationFraction: 0.52, look: 2, looks: [0.25, 0.5, 1], boundary: 2.7967 },
      "Progress: 52 % of the planned information, registered look 2 of 3 (0.25, 0.5, 1), |z| boundary 2.80",
    ],
  ])("describes %s", (_name, progress, text) => {
    expect(designSummary({ ...analysis, progress })).toBe(text);
  });
});

describe("reportedSummary", () => {
  it("is absent when every unit reported its primary outcomes", () => {
    expect(reportedSummary(analysis)).toBeUndefined();
  });

  it("shows the share of each arm that reported, when reports were lost", () => {
    const [unitsC = 0, unitsT = 0] = analysis.srm.observed;
    const lossy = {
      ...analysis,
      metrics: analysis.metrics.map((m) =>
        m.role === "primary"
          ? {
              ...m,
              control: { ...m.control, n: unitsC },
              treatment: { ...m.treatment, n: Math.round(unitsT * 0.65) },
            }
          : m,
      ),
    };
    const text = reportedSummary(lossy);
    expect(text).toContain(`resolution_rate reported by control 100 % (${unitsC} of ${unitsC})`);
    expect(text).toContain(`treatment 65 % (${Math.round(unitsT * 0.65)} of ${unitsT})`);
    expect(srmSummary(lossy)).toContain("Outcomes: resolution_rate reported by");
  });
});
