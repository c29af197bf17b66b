/**
 * `llm-ab analyze` on a bandit spec: the weighted report in words and in JSON, and a log without
 * propensities refused with its line.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { banditSpecInput, simulateBanditLog } from "../helpers/bandit-log.ts";
import { runCli } from "../helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "llm-ab-cli-bandit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const specPath = join(dir, "bandit.json");
writeFileSync(specPath, JSON.stringify(banditSpecInput(1)));
const arms = ["control", "treatment", "treatment-2"];

describe("llm-ab analyze with a bandit spec", () => {
  it("prints weighted and plain arm means, the corrected comparisons and the propensity check", async () => {
    const data = simulateBanditLog(dir, 3, [0.5, 0.5, 0.7], arms, 3000);
    const run = await runCli("analyze", specPath, "--data", data);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Bandit analysis of "support-bot-policy-prompt": 3000 units');
    expect(run.stdout).toContain("weighted by inverse propensity (Hajek)");
    expect(run.stdout).toContain("each at alpha 0.025 (Bonferroni over 2; adj. p = p × 2, capped at 1)");
    expect(run.stdout).toContain("(units were drawn as logged)");
    expect(run.stdout).toMatch(/plain mean\s+│\s+weighted mean/);
    expect(run.stdout).toMatch(/treatment-2\s+│[^\n]+│ better/);
    expect(run.stdout).toContain("Verdict: SHIP");
  });

  it("prints the whole report as JSON with --json", async () => {
    const data = simulateBanditLog(dir, 4, [0.5, 0.5, 0.7], arms, 3000);
    const run = await runCli("analyze", specPath, "--data", data, "--json");
    const report = JSON.parse(run.stdout) as {
      mode: string;
      correction: unknown;
      metrics: { reward: boolean }[];
    };
    expect(report.mode).toBe("bandit");
    expect(report.correction).toEqual({ comparisons: 2, alphaPerComparison: 0.025 });
    expect(report.metrics.filter((m) => m.reward)).toHaveLength(1);
  });

  it("refuses a log whose exposures carry no propensities, naming the line", async () => {
    const data = join(dir, "ab.jsonl");
    writeFileSync(
      data,
      `${JSON.stringify({ type: "exposure", t: "2026-11-01T00:00:00Z", experiment: "support-bot-policy-prompt", unit: "u1", assigned: "control" })}\n`,
    );
    const run = await runCli("analyze", specPath, "--data", data);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("ab.jsonl:1: propensities: missing");
  });
});
