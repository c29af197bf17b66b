import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { generateUnits, tempDir, writeJsonl } from "../helpers/unit-data.ts";

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("llm-ab analyze", () => {
  // The example spec: 10 % treatment, OBF looks. 30,000 conversations reach past the last look.
  const records = generateUnits({
    control: { units: 27000, resolution: 0.6, tokens: 200 },
    treatment: { units: 3000, resolution: 0.66, tokens: 190 },
  });
  const data = writeJsonl(dir, "units.jsonl", records);

  it("prints the documented JSON shape", async () => {
    const run = await runCli("analyze", "examples/support-bot-policy-prompt.yaml", "--data", data, "--json");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(["ship", "hold", "rollback", "keep running", "inconclusive"]).toContain(report.verdict);
    expect(report.reasons.length).toBeGreaterThan(0);
    expect(report.srm.pValue).toBeGreaterThan(0.001);
    const primary = report.metrics.find((m: { name: string }) => m.name === "resolution_rate");
    expect(primary).toMatchObject({ role: "primary", control: { n: 27000 }, treatment: { n: 3000 } });
    for (const key of ["effect", "relativeLift", "ci", "pValue", "adjustedPValue"])
      expect(primary).toHaveProperty(key);
    expect(primary.ci).toHaveLength(2);
  });

  it("prints a verdict table a person reads", async () => {
    const run = await runCli("analyze", "examples/support-bot-policy-prompt.yaml", "--data", data);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Verdict: (SHIP|HOLD|ROLLBACK|KEEP RUNNING|INCONCLUSIVE)/);
    expect(run.stdout).toMatch(/resolution_rate/);
  });

  it("refuses a look that is not registered", async () => {
    const run = await runCli(
      "analyze",
      "examples/support-bot-policy-prompt.yaml",
      "--data",
      data,
      "--look",
      "9",
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--look 9: not a registered look/);
  });

  it("says which data file is missing", async () => {
    const run = await runCli("analyze", "examples/support-bot-policy-prompt.yaml", "--data", "nope.jsonl");
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--data nope\.jsonl: file not found/);
  });
});
