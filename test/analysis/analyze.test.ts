import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { DataError } from "../../analysis/aggregate.ts";
import { runAnalysis } from "../../analysis/analyze.ts";
import { twoProportionZTest } from "../../stats/proportions.ts";
import { welchTTest } from "../../stats/welch.ts";
import { duelSpec, generateUnits, tempDir, writeCsv, writeJsonl } from "../helpers/unit-data.ts";

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const winner = generateUnits({
  control: { units: 2000, resolution: 0.6, tokens: 200 },
  treatment: { units: 2000, resolution: 0.67, tokens: 203 },
});

describe("runAnalysis", () => {
  it("ships a clear winner and reports the same numbers as the tests run by hand", async () => {
    const report = await runAnalysis(duelSpec(), writeJsonl(dir, "winner.jsonl", winner));
    expect(report.verdict).toBe("ship");
    expect(report.srm.alarm).toBe(false);
    const primary = report.metrics.find((m) => m.name === "resolution_rate")!;
    const count = (variant: string) =>
      winner.filter((r) => r.variant === variant && r.metrics.resolution_rate === 1).length;
    const byHand = twoProportionZTest(
      { n: 2000, successes: count("control") },
      { n: 2000, successes: count("treatment") },
    );
    expect(primary.pValue).toBeCloseTo(byHand.pValue, 12);
    expect(primary.ci![0]).toBeCloseTo(byHand.ci[0], 12);
    expect(primary.control).toEqual({ n: 2000, mean: count("control") / 2000 });
    expect(primary.chanceToBeatControl).toBeGreaterThan(0.99);
  });

  it("uses CUPED when the metric names a covariate, shrinking the variance", async () => {
    const report = await runAnalysis(duelSpec(), writeJsonl(dir, "cuped.jsonl", winner));
    const tokens = report.metrics.find((m) => m.name === "response_tokens" && m.role === "secondary")!;
    expect(tokens.method).toMatch(/CUPED/);
    expect(tokens.varianceReduction).toBeGreaterThan(0.5);
    const plain = (variant: string) => {
      const xs = winner.filter((r) => r.variant === variant).map((r) => r.metrics.response_tokens as number);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      return { n: xs.length, mean, variance: xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) };
    };
    // Same point estimate scale as the unadjusted Welch test, much narrower interval.
    const unadjusted = welchTTest(plain("control"), plain("treatment"));
    expect(tokens.ci![1] - tokens.ci![0]).toBeLessThan((unadjusted.ci[1] - unadjusted.ci[0]) / 2);
  });

  it("reads CSV to exactly the same verdict and numbers as JSONL", async () => {
    const fromJsonl = await runAnalysis(duelSpec(), writeJsonl(dir, "same.jsonl", winner));
    const fromCsv = await runAnalysis(duelSpec(), writeCsv(dir, "same.csv", winner));
    expect(fromCsv.verdict).toBe(fromJsonl.verdict);
    expect(fromCsv.metrics.map((m) => m.pValue)).toEqual(fromJsonl.metrics.map((m) => m.pValue));
  });

  it("holds on a sample-ratio mismatch however good the metric looks", async () => {
    const skewed = generateUnits({
      control: { units: 5000, resolution: 0.6, tokens: 200 },
      treatment: { units: 5400, resolution: 0.67, tokens: 200 },
    });
    const report = await runAnalysis(duelSpec(), writeJsonl(dir, "srm.jsonl", skewed));
    expect(report.srm.alarm).toBe(true);
    expect(report.verdict).toBe("hold");
    expect(report.reasons[0]).toMatch(/sample-ratio mismatch/);
  });

  it("keeps a fixed-horizon design running before its planned sample", async () => {
    const early = generateUnits({
      control: { units: 700, resolution: 0.6, tokens: 200 },
      treatment: { units: 700, resolution: 0.7, tokens: 200 },
    });
    const report = await runAnalysis(duelSpec(), writeJsonl(dir, "early.jsonl", early));
    expect(report.progress.informationFraction).toBeCloseTo(700 / 1471, 6);
    expect(report.verdict).toBe("keep running");
  });

  it("flags a Simpson reversal when the segment mix differs between arms", async () => {
    // Treatment is better inside each region but lands mostly in the hard region.
    const region = (hardShare: number) => (i: number) => (i % 100 < hardShare * 100 ? "hard" : "easy");
    const records = [
      ...generateUnits({ control: { units: 3000, resolution: 0, tokens: 200, region: region(0.2) } }, 1),
      ...generateUnits({ treatment: { units: 3000, resolution: 0, tokens: 200, region: region(0.8) } }, 2),
    ].map((r, i) => {
      const hard = r.segments!.region === "hard";
      const p = (r.variant === "treatment" ? 0.05 : 0) + (hard ? 0.3 : 0.8);
      return { ...r, metrics: { ...r.metrics, resolution_rate: ((i * 7919) % 1000) / 1000 < p ? 1 : 0 } };
    });
    const report = await runAnalysis(duelSpec(), writeJsonl(dir, "simpson.jsonl", records));
    const finding = report.segments.find((s) => s.dimension === "region" && s.metric === "resolution_rate")!;
    expect(finding.reversal).toBe(true);
    expect(finding.mixShifted).toBe(true);
  });

  it("tests SRM per allocation phase and stratifies effects by phase on a ramp", async () => {
    // A 10 % → 50 % ramp: 9,000/1,000 then 3,000/3,000. Pooled against 50 % this would alarm.
    const phase = (percent: number, c: number, t: number, seed: number) =>
      generateUnits(
        {
          control: { units: c, resolution: percent === 10 ? 0.7 : 0.5, tokens: 200 },
          treatment: { units: t, resolution: percent === 10 ? 0.75 : 0.55, tokens: 200 },
        },
        seed,
      ).map((r) => ({ ...r, unit: `${percent}-${r.unit}`, allocation: percent }));
    const ramp = [...phase(10, 9000, 1000, 3), ...phase(50, 3000, 3000, 4)];
    const report = await runAnalysis(duelSpec(), writeJsonl(dir, "ramp.jsonl", ramp));
    expect(report.srmPhases.map((p) => p.label)).toEqual(["10 %", "50 %"]);
    expect(report.srm.alarm).toBe(false);
    const primary = report.metrics.find((m) => m.name === "resolution_rate")!;
    expect(primary.method).toMatch(/stratified by 2 allocation phases/);
    // Stratified effect sits near the true +0.05; the pooled difference would be about −0.07.
    expect(primary.effect!).toBeGreaterThan(0.02);
    expect(primary.effect!).toBeLessThan(0.08);
  });

  it("refuses data where only some records carry an allocation phase", async () => {
    const records = winner.slice(0, 20).map((r, i) => (i === 5 ? r : { ...r, allocation: 50 }));
    const error = (await runAnalysis(duelSpec(), writeJsonl(dir, "partial.jsonl", records)).catch(
      (e: unknown) => e,
    )) as DataError;
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toMatch(/partial\.jsonl:6: allocation: missing here but present on line 1/);
  });

  it("finds a segment dimension that first appears after the sampled head of the file", async () => {
    const arms = generateUnits({
      control: { units: 5100, resolution: 0.6, tokens: 200 },
      treatment: { units: 5100, resolution: 0.6, tokens: 200 },
    });
    // Interleave the arms, and give records past line 10,050 a second dimension the 10,000-line sample never sees.
    const records = arms
      .slice(0, 5100)
      .flatMap((c, k) => [c, arms[5100 + k]!])
      .map((r, i) =>
        i >= 10_050 ? { ...r, segments: { ...r.segments, tier: i % 4 < 2 ? "pro" : "free" } } : r,
      );
    const report = await runAnalysis(duelSpec(), writeJsonl(dir, "late.jsonl", records));
    expect(report.segments.map((s) => s.dimension).sort()).toEqual(["region", "tier"]);
  });

  it("reports an operational guardrail absent from the data as enforced live", async () => {
    const report = await runAnalysis(duelSpec(), writeJsonl(dir, "live.jsonl", winner));
    expect(report.guardrails.find((g) => g.name === "ttft_p95_seconds")!.status).toBe("live only");
  });
});

describe("data errors", () => {
  const good = winner.slice(0, 10);
  const cases: { name: string; lines: unknown[]; expected: RegExp }[] = [
    {
      name: "an unknown variant",
      lines: [...good, { unit: "x", variant: "treatmnet", metrics: { resolution_rate: 1 } }],
      expected: /:11: variant: unknown variant "treatmnet" \(known: control, treatment\)/,
    },
    {
      name: "a non-numeric metric",
      lines: [...good, { unit: "x", variant: "control", metrics: { resolution_rate: "yes" } }],
      expected: /:11: metrics\.resolution_rate: not a finite number: "yes"/,
    },
    {
      name: "a binary metric that is not 0 or 1",
      lines: [...good, { unit: "x", variant: "control", metrics: { resolution_rate: 2 } }],
      expected: /:11: metrics\.resolution_rate: binary metric must be 0 or 1/,
    },
    {
      name: "a duplicated unit",
      lines: [...good, { ...good[0] }],
      expected: /:11: unit: unit "control-0" appears again \(first on line 1\)/,
    },
    {
      name: "a missing unit id",
      lines: [...good, { variant: "control", metrics: {} }],
      expected: /:11: unit: missing or empty unit id/,
    },
  ];
  it.each(cases)("names file, line and field for $name", async ({ lines, expected }) => {
    const path = writeJsonl(dir, "bad.jsonl", lines);
    const error = await runAnalysis(duelSpec(), path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).message).toContain(path);
    expect((error as DataError).message).toMatch(expected);
  });

  it("names the line of malformed JSON", async () => {
    const path = writeJsonl(dir, "broken.jsonl", good);
    const { appendFileSync } = await import("node:fs");
    appendFileSync(path, '{"unit": "z", "variant": \n');
    const error = (await runAnalysis(duelSpec(), path).catch((e: unknown) => e)) as DataError;
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toMatch(/broken\.jsonl:11: not valid JSON/);
  });

  it("names the line and column of a bad CSV value", async () => {
    const path = writeCsv(dir, "bad.csv", [
      ...good,
      { ...good[1]!, unit: "y", metrics: { resolution_rate: "maybe", response_tokens: 1 } },
    ]);
    const error = (await runAnalysis(duelSpec(), path).catch((e: unknown) => e)) as DataError;
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toMatch(/bad\.csv:12: metrics\.resolution_rate: not a finite number: "maybe"/);
  });
});
