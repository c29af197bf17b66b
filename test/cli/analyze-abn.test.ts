import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { abnInput, exactArm } from "../helpers/abn-data.ts";
import { runCli } from "../helpers/cli.ts";
import { tempDir, writeJsonl } from "../helpers/unit-data.ts";

const dir = tempDir("llm-ab-cli-abn-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const spec = join(dir, "trio.json");
writeFileSync(spec, JSON.stringify(abnInput()));
// treatment-a wins clearly; treatment-b's p ≈ 0.034 would win alone but not at alpha / 2.
const data = writeJsonl(dir, "trio.jsonl", [
  ...exactArm("control", 4000, 2400, 400, 1),
  ...exactArm("treatment-a", 3000, 2100, 300, 2),
  ...exactArm("treatment-b", 3000, 1875, 330, 3),
]);

describe("llm-ab analyze with two treatments", () => {
  it("prints one section per treatment, the correction and the overall verdict", async () => {
    const run = await runCli("analyze", spec, "--data", data);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Experiment "trio": 2 treatments (treatment-a, treatment-b) vs control');
    expect(run.stdout).toContain(
      "Correction: Bonferroni over 2 treatments: each treatment vs control at alpha 0.05/2 = 0.025; adj. p is the within-comparison adjusted p × 2 (capped at 1), to read against alpha 0.05",
    );
    expect(run.stdout).toMatch(/SRM: chi2 0\.00, .*\(control \/ treatment-a \/ treatment-b\)\)/);
    expect(run.stdout).toContain("== treatment-a vs control: SHIP ==");
    expect(run.stdout).toContain("== treatment-b vs control: INCONCLUSIVE ==");
    expect(run.stdout.match(/97\.5 % CI \(abs\.\)/g)).toHaveLength(2);
    expect(run.stdout).toContain("Verdict: SHIP treatment-a");
    // The sections come in spec order, before the overall verdict.
    const at = (s: string) => run.stdout.indexOf(s);
    expect(at("== treatment-a")).toBeLessThan(at("== treatment-b"));
    expect(at("== treatment-b")).toBeLessThan(at("Verdict: SHIP"));
  });

  it("prints the whole report as JSON, every comparison included", async () => {
    const run = await runCli("analyze", spec, "--data", data, "--json");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      verdict: "ship",
      treatment: "treatment-a",
      arms: ["control", "treatment-a", "treatment-b"],
      correction: { comparisons: 2, alphaPerComparison: 0.025 },
    });
    expect(
      report.comparisons.map((c: { treatment: string; verdict: string }) => [c.treatment, c.verdict]),
    ).toEqual([
      ["treatment-a", "ship"],
      ["treatment-b", "inconclusive"],
    ]);
    const b = report.comparisons[1].metrics.find((m: { role: string }) => m.role === "primary");
    expect(b.adjustedPValue).toBeCloseTo(2 * b.pValue, 12);
    expect(report.srm.observed).toEqual([4000, 3000, 3000]);
  });
});
