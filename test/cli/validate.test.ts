import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { runCli } from "../helpers/cli.ts";
import { exampleInput, examplePaths, patched } from "../spec/spec-fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "llm-ab-validate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const broken = () =>
  file(
    "broken.yaml",
    stringify(
      patched(exampleInput(), [
        [["rollout", "treatmentPercent"], 140],
        [["variants", "treatment", "deployment"], "chat-9b"],
        [["metrics", "guardrails", 1, "action"], "rollbak"],
      ]),
    ),
  );

describe("llm-ab validate", () => {
  it.each([
    [
      examplePaths.promptDuel,
      'experiment "support-bot-policy-prompt" is valid (2 variants, 1 deployment, 3 guardrails)',
    ],
    [
      examplePaths.modelSwap,
      'experiment "support-bot-model-swap-70b" is valid (2 variants, 2 deployments, 6 guardrails)',
    ],
  ])("accepts %s and says what it holds", async (path, summary) => {
    const run = await runCli("validate", path);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`✓ ${path}: ${summary}\n`);
    expect(run.stderr).toBe("");
  });

  it("prints every problem on its own line as file: path: message, and exits 1", async () => {
    const path = broken();
    const run = await runCli("validate", path);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr.trimEnd().split("\n")).toEqual([
      `${path}: rollout.treatmentPercent: must be between 0 and 100, got 140`,
      `${path}: metrics.guardrails[1].action: must be one of "pause", "rollback" or "review", got "rollbak"; did you mean "rollback"?`,
      `${path}: variants.treatment.deployment: unknown deployment "chat-9b"; did you mean "chat-8b"? (known: chat-8b)`,
    ]);
  });

  it("reports a YAML syntax error with its line and column", async () => {
    const path = file("syntax.yaml", "name: a\nhypothesis: h\nname: b\n");
    const run = await runCli("validate", path);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`${path}: YAML syntax error at line 3, column 1: Map keys must be unique\n`);
  });

  it("says when the file does not exist", async () => {
    const path = join(dir, "absent.yaml");
    const run = await runCli("validate", path);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`${path}: file not found\n`);
  });

  it("prints a JSON report with the spec hash for a valid spec", async () => {
    const run = await runCli("validate", examplePaths.promptDuel, "--json");
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({
      valid: true,
      file: examplePaths.promptDuel,
      experiment: "support-bot-policy-prompt",
      problems: [],
    });
    expect(report.specHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("prints a JSON report of the problems for an invalid spec and still exits 1", async () => {
    const path = broken();
    const run = await runCli("validate", path, "--json");
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.valid).toBe(false);
    expect(report.problems).toHaveLength(3);
    expect(report.problems[0]).toEqual({
      path: "rollout.treatmentPercent",
      message: "must be between 0 and 100, got 140",
    });
    expect(run.stderr).toBe(`${path}: invalid spec (3 problems)\n`);
  });

  it("explains itself with --help", async () => {
    const run = await runCli("validate", "--help");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: llm-ab validate [options] <spec>");
    expect(run.stdout).toContain("--json");
    expect(run.stdout).toContain("Exit codes: 0 valid, 1 invalid");
  });
});
