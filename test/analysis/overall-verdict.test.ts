import { describe, expect, it } from "vitest";
import type { ComparisonReport, MetricReport } from "../../analysis/comparison.ts";
import { bonferroniAcross, overallDecision } from "../../analysis/overall-verdict.ts";
import type { Verdict } from "../../stats/decision.ts";

const metric = (effect: number | null, adjustedPValue: number | null): MetricReport => ({
  name: "resolution_rate",
  role: "primary",
  kind: "binary",
  method: "two-proportion z-test",
  control: { n: 100, mean: 0.5 },
  treatment: { n: 100, mean: effect === null ? null : 0.5 + effect },
  effect,
  relativeLift: null,
  ci: null,
  relativeCi: null,
  pValue: adjustedPValue,
  adjustedPValue,
  status: "win",
});

const comparison = (treatment: string, verdict: Verdict, effect = 0.01, reasons = [`${verdict}!`]) =>
  ({
    treatment,
    alpha: 0.025,
    verdict,
    reasons,
    progress: { kind: "fixed", informationFraction: 1, look: null, looks: [1], boundary: null },
    metrics: [metric(effect, 0.01)],
    guardrails: [],
    segments: [],
  }) satisfies ComparisonReport;

const up = { name: "resolution_rate", direction: "increase" } as const;

describe("overallDecision", () => {
  it("passes a single comparison through unchanged", () => {
    const only = comparison("treatment", "hold", 0.01, ["sample-ratio mismatch"]);
    expect(overallDecision([only], up, 0.05)).toEqual({
      verdict: "hold",
      chosen: only,
      reasons: ["sample-ratio mismatch"],
    });
  });

  it.each<[string, Verdict[], Verdict, string]>([
    ["a rollback outranks a treatment still running", ["keep running", "rollback"], "rollback", "b"],
    ["a hold outranks a finished comparison", ["inconclusive", "hold"], "hold", "b"],
    ["a rollback outranks a hold", ["hold", "rollback", "keep running"], "rollback", "b"],
    [
      "one comparison still running keeps the experiment running",
      ["inconclusive", "keep running"],
      "keep running",
      "b",
    ],
    ["the earlier treatment wins a tie", ["inconclusive", "inconclusive"], "inconclusive", "a"],
    ["any shipping treatment ships, whatever the others say", ["rollback", "ship", "hold"], "ship", "b"],
  ])("%s", (_name, verdicts, verdict, chosen) => {
    const comparisons = verdicts.map((v, i) => comparison("abc"[i]!, v));
    const decision = overallDecision(comparisons, up, 0.05);
    expect(decision.verdict).toBe(verdict);
    expect(decision.chosen.treatment).toBe(chosen);
    expect(decision.reasons[0]).toContain("Bonferroni over");
  });

  it.each([
    ["increase", [0.02, 0.05, 0.03], "b"],
    ["decrease", [-0.02, -0.05, 0.03], "b"],
    ["decrease", [-0.06, -0.05, -0.01], "a"],
  ] as const)(
    "among shipping treatments of a metric to %s picks the largest good effect %j",
    (direction, effects, best) => {
      const comparisons = effects.map((e, i) => comparison("abc"[i]!, "ship", e));
      const decision = overallDecision(comparisons, { name: "resolution_rate", direction }, 0.05);
      expect(decision.chosen.treatment).toBe(best);
      expect(decision.reasons[0]).toMatch(
        new RegExp(
          `^ship ${best}: .*largest resolution_rate effect of the 3 treatments that ship.*not tested`,
        ),
      );
    },
  );

  it("names each reason once with every treatment that gave it", () => {
    const shared = "sample-ratio mismatch: the split is not what was configured";
    const decision = overallDecision(
      [comparison("a", "hold", 0, [shared, "only a"]), comparison("b", "hold", 0, [shared])],
      up,
      0.05,
    );
    expect(decision.reasons.slice(1)).toEqual([`a, b: ${shared}`, "a: only a"]);
    expect(decision.reasons[0]).toBe(
      "no treatment ships; the most pressing verdict is hold (a); each treatment vs control at alpha 0.05/2 = 0.025 (Bonferroni over 2 treatments): a hold, b hold",
    );
  });
});

describe("bonferroniAcross", () => {
  it("multiplies adjusted p-values by k, caps them at 1 and leaves raw p-values alone", () => {
    const c = {
      ...comparison("a", "ship"),
      metrics: [metric(0.1, 0.02), metric(0.1, 0.4), metric(0.1, null)],
    };
    const adjusted = bonferroniAcross(c, 3).metrics;
    expect(adjusted.map((m) => m.adjustedPValue)).toEqual([0.06, 1, null]);
    expect(adjusted.map((m) => m.pValue)).toEqual([0.02, 0.4, null]);
  });

  it("changes nothing for a single comparison", () => {
    const c = comparison("a", "ship");
    expect(bonferroniAcross(c, 1)).toBe(c);
  });
});
