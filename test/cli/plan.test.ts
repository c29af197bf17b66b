import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.ts";
import { tempDir } from "../helpers/unit-data.ts";

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function specFile(name: string, body: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    JSON.stringify({
      name: "duel",
      hypothesis: "h",
      unit: "conversation",
      rollout: { mode: "ab", treatmentPercent: 50 },
      variants: { control: { deployment: "chat" }, treatment: { deployment: "chat" } },
      deployments: { chat: { image: "vllm/vllm-openai:v0.11.0", model: "m" } },
      ...body,
    }),
  );
  return path;
}

describe("llm-ab plan", () => {
  it("sizes the design article's anchors exactly: 0.60 → 0.65 and 0.60 → 0.62", async () => {
    const path = specFile("anchors.json", {
      metrics: {
        primary: [
          { name: "five_points", kind: "binary", baseline: 0.6, mde: 0.05 },
          { name: "two_points", kind: "binary", baseline: 0.6, mde: 0.02 },
        ],
      },
    });
    const run = await runCli("plan", path, "--daily-units", "1000", "--json");
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout);
    expect(plan.metrics[0]).toMatchObject({ name: "five_points", perArm: 1471, total: 2942, days: 3 });
    expect(plan.metrics[1]).toMatchObject({ name: "two_points", total: 18672, days: 19 });
    expect(plan.sequential).toBeNull();
  });

  it("prints the O'Brien-Fleming boundaries of the example spec per look", async () => {
    const run = await runCli("plan", "examples/support-bot-policy-prompt.yaml", "--json");
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout);
    expect(plan.sequential.looks).toEqual([0.25, 0.5, 0.75, 1]);
    const expected = [4.3326, 2.9631, 2.359, 2.0141];
    plan.sequential.boundaries.forEach((b: number, i: number) => {
      expect(b).toBeCloseTo(expected[i]!, 3);
    });
    // A 10 % treatment share needs far more control units than treatment units.
    expect(plan.metrics[0].control).toBeGreaterThan(plan.metrics[0].treatment * 8);
    expect(plan.metrics[0].days).toBeGreaterThan(0);
  });

  it("renders a readable table with the duration and the looks", async () => {
    const run = await runCli("plan", "examples/support-bot-policy-prompt.yaml", "--daily-units", "5000");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/resolution_rate/);
    expect(run.stdout).toMatch(/Duration at 5,000 units\/day/);
    expect(run.stdout).toMatch(/4\.3326/);
  });

  it("refuses a non-numeric --daily-units and names the option", async () => {
    const run = await runCli("plan", "examples/support-bot-policy-prompt.yaml", "--daily-units", "lots");
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--daily-units/);
  });

  it("lists the spec's problems and exits 1 for an invalid spec", async () => {
    const path = specFile("bad.json", {
      metrics: { primary: [{ name: "r", kind: "binary", baseline: 1.4, mde: 0.05 }] },
    });
    const run = await runCli("plan", path);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/metrics\.primary\[0\]\.baseline/);
  });
});
