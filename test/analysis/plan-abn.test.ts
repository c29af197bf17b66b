/**
 * A/B/n sizing: each treatment against control at alpha / k (Bonferroni), each arm at its own
 * stripe of the treatment percent. The sizes must be exactly the single-comparison sizes at that
 * alpha and allocation ratio, which stats/sizing.ts matches to R's power.prop.test and statsmodels.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { planExperiment } from "../../analysis/plan.ts";
import { parseSpec } from "../../spec/load.ts";
import { sampleSizeBinary } from "../../stats/sizing.ts";
import { runCli } from "../helpers/cli.ts";
import { exampleInput, patched } from "../spec/spec-fixtures.ts";

const variant = (systemPrompt: string) => ({
  deployment: "chat-8b",
  systemPrompt,
  params: { temperature: 0 },
});

/** The prompt duel with `k` treatments sharing a 60 % treatment percent. */
function specWith(k: number) {
  const extra = Array.from(
    { length: k - 1 },
    (_, i) => [["variants", `treatment-${i + 2}`], variant(`Prompt ${i + 2}.`)] as const,
  );
  return parseSpec(patched(exampleInput("promptDuel"), [[["rollout", "treatmentPercent"], 60], ...extra]));
}

describe("planning several treatments", () => {
  it.each([1, 2, 3])("sizes each of %i treatment(s) at alpha / k with its own share against control", (k) => {
    const spec = specWith(k);
    const plan = planExperiment(spec);
    expect(plan.treatments).toHaveLength(k);
    expect(plan.comparisonAlpha).toBeCloseTo(0.05 / k, 15);
    const [metric] = plan.metrics;
    const primary = spec.metrics.primary[0];
    const baseline = primary?.baseline ?? 0;
    const expected = sampleSizeBinary(baseline, baseline + (primary?.mde ?? 0), {
      alpha: 0.05 / k,
      power: spec.analysis.power,
      ratio: 0.6 / k / 0.4,
    });
    expect(metric?.fixed.control).toBe(expected.control);
    expect(metric?.fixed.treatment).toBe(expected.treatment);
    expect(metric?.fixed.total).toBe(expected.control + k * expected.treatment);
  });

  it("needs more units per comparison as treatments are added", () => {
    const totals = [1, 2, 3].map((k) => planExperiment(specWith(k)).metrics[0]?.total ?? 0);
    expect(totals[1]).toBeGreaterThan(totals[0] ?? 0);
    expect(totals[2]).toBeGreaterThan(totals[1] ?? 0);
  });

  it("says how the comparisons are corrected in the plan's notes", () => {
    const plan = planExperiment(specWith(3));
    expect(plan.notes[0]).toContain("3 treatments, each compared with control at alpha 0.05/3");
    expect(plan.notes[0]).toContain("Bonferroni");
  });
});

describe("llm-ab plan with several treatments", () => {
  it("prints the split per arm and the corrected alpha", async () => {
    const dir = mkdtempSync(join(tmpdir(), "llm-ab-abn-"));
    try {
      const file = join(dir, "abn.yaml");
      writeFileSync(
        file,
        stringify(
          patched(exampleInput("promptDuel"), [
            [["rollout", "treatmentPercent"], 60],
            [["variants", "treatment-b"], variant("Be brief.")],
          ]),
        ),
      );
      const run = await runCli("plan", file);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        "split 40/30/30 (control/treatment/treatment-b), each comparison at alpha 0.025 (Bonferroni)",
      );
      expect(run.stdout).toContain("each treatment");
      const json = JSON.parse((await runCli("plan", file, "--json")).stdout) as {
        treatments: string[];
        comparisonAlpha: number;
      };
      expect(json).toMatchObject({ treatments: ["treatment", "treatment-b"], comparisonAlpha: 0.025 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
