import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DataError } from "../../analysis/aggregate.ts";
import { runAnalysis } from "../../analysis/analyze.ts";
import { duelSpec, generateUnits, tempDir, writeJsonl } from "../helpers/unit-data.ts";

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sequential = { analysis: { sequential: { looks: [0.25, 0.5, 0.75, 1], spending: "obrien-fleming" } } };

describe("analysis guards a statistician would ask for", () => {
  it("holds when one allocation phase is mismatched even if the phases combined are not", async () => {
    const phase = (percent: number, c: number, t: number, seed: number) =>
      generateUnits(
        {
          control: { units: c, resolution: 0.6, tokens: 200 },
          treatment: { units: t, resolution: 0.7, tokens: 200 },
        },
        seed,
      ).map((r) => ({ ...r, unit: `${percent}-${r.unit}`, allocation: percent }));
    // The 10 % phase got 12 % treatment; the 50 % phases are balanced and dilute the combined statistic.
    const records = [...phase(10, 4400, 600, 1), ...phase(50, 6000, 6000, 2), ...phase(60, 4000, 6000, 3)];
    const report = await runAnalysis(duelSpec(), writeJsonl(dir, "phase-srm.jsonl", records));
    expect(report.srmPhases[0]!.pValue).toBeLessThan(0.001 / 3);
    expect(report.verdict).toBe("hold");
    expect(report.reasons[0]).toMatch(/allocation phase 10 %/);
  });

  it("measures information as 1/(1/n_C + 1/n_T) of the units with an outcome", async () => {
    const records = generateUnits({
      control: { units: 3000, resolution: 0.6, tokens: 200 },
      treatment: { units: 1000, resolution: 0.6, tokens: 200 },
    });
    const report = await runAnalysis(
      duelSpec({ rollout: { mode: "ab", treatmentPercent: 25 } }),
      writeJsonl(dir, "info.jsonl", records),
    );
    const plan = report.plan.metrics[0]!;
    const expected = 1 / (1 / 3000 + 1 / 1000) / (1 / (1 / plan.max.control + 1 / plan.max.treatment));
    expect(report.progress.informationFraction).toBeCloseTo(expected, 12);
  });

  it("refuses a declared look the data cannot have reached, and bounds a late look at its observed information", async () => {
    const spec = duelSpec(sequential);
    const few = generateUnits({
      control: { units: 200, resolution: 0.6, tokens: 200 },
      treatment: { units: 200, resolution: 0.75, tokens: 200 },
    });
    const path = writeJsonl(dir, "few.jsonl", few);
    await expect(runAnalysis(spec, path, { look: 4 })).rejects.toThrow(
      /--look 4: the data hold .* less than look 3/,
    );
    // About 60 % of the information at look 2: the boundary is spent at 0.6, below the 0.5-look's 2.963.
    const n = Math.round(0.6 * runPlanArm(spec));
    const mid = generateUnits({
      control: { units: n, resolution: 0.6, tokens: 200 },
      treatment: { units: n, resolution: 0.6, tokens: 200 },
    });
    const report = await runAnalysis(spec, writeJsonl(dir, "mid.jsonl", mid), { look: 2 });
    expect(report.progress.look).toBe(2);
    // OBF spending evaluated at ~0.6 gives a boundary between the registered 0.5 and 0.75 looks'.
    expect(report.progress.boundary!).toBeLessThan(2.9631);
    expect(report.progress.boundary!).toBeGreaterThan(2.359);
  });

  it("does not roll back a treatment over an absolute ceiling that control exceeds too", async () => {
    const spec = duelSpec({
      metrics: {
        primary: [{ name: "resolution_rate", kind: "binary", baseline: 0.6, mde: 0.05 }],
        secondary: [{ name: "errored", kind: "binary", direction: "decrease" }],
        guardrails: [{ name: "errored", max: 0.001, action: "rollback" }],
      },
    });
    const records = generateUnits({
      control: { units: 2000, resolution: 0.6, tokens: 200 },
      treatment: { units: 2000, resolution: 0.6, tokens: 200 },
    }).map((r, i) => ({ ...r, metrics: { ...r.metrics, errored: i % 100 === 0 ? 1 : 0 } }));
    const report = await runAnalysis(spec, writeJsonl(dir, "ceiling.jsonl", records));
    expect(report.verdict).not.toBe("rollback");
    expect(report.guardrails.find((g) => g.name === "errored")!.reason).toMatch(
      /control .* is already beyond/,
    );
  });

  it("holds when a primary outcome is missing more often in one arm", async () => {
    const records = generateUnits({
      control: { units: 3000, resolution: 0.6, tokens: 200 },
      treatment: { units: 3000, resolution: 0.7, tokens: 200 },
    }).map((r, i) =>
      r.variant === "treatment" && i % 10 < 3
        ? { ...r, metrics: { response_tokens: r.metrics.response_tokens } }
        : r,
    );
    const report = await runAnalysis(duelSpec(), writeJsonl(dir, "missing.jsonl", records));
    expect(report.verdict).toBe("hold");
    expect(report.reasons[0]).toMatch(/outcomes of resolution_rate are missing at different rates/);
  });

  it("calls a binary metric with no variation in either arm untestable, not p = 1", async () => {
    const records = generateUnits({
      control: { units: 2000, resolution: 0, tokens: 200 },
      treatment: { units: 2000, resolution: 0, tokens: 200 },
    });
    const report = await runAnalysis(duelSpec(), writeJsonl(dir, "zero.jsonl", records));
    const primary = report.metrics.find((m) => m.name === "resolution_rate")!;
    expect(primary.pValue).toBeNull();
    expect(primary.note).toMatch(/no variation/);
    expect(report.verdict).toBe("inconclusive");
  });

  it.each([
    { name: "an empty file", body: "", expected: /holds no records/ },
    {
      name: "a CSV without a variant column",
      body: "unit,resolution_rate\nu1,1\n",
      expected: /:1: the header has no variant column/,
      ext: "csv",
    },
    {
      name: "a value too large to aggregate",
      body: `${JSON.stringify({ unit: "u", variant: "control", metrics: { response_tokens: 1e200 } })}\n`,
      expected: /:1: metrics\.response_tokens: 1e\+200 is too large/,
    },
  ])("names the data file for $name", async ({ body, expected, ext }) => {
    const path = join(dir, `bad-${Math.random().toString(36).slice(2)}.${ext ?? "jsonl"}`);
    writeFileSync(path, body);
    const error = await runAnalysis(duelSpec(), path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(expected);
  });
});

/** Planned control units per arm of the spec (50/50, so both arms). */
function runPlanArm(spec: ReturnType<typeof duelSpec>): number {
  return Math.ceil(1471 * (spec.analysis.sequential ? 1.0196 : 1));
}
