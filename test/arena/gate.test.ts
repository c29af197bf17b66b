import { describe, expect, it } from "vitest";
import { decideGate, type GateInput } from "../../arena/gate.ts";
import { exposureBlock, GATE_FILE_VERSION, type GateFile } from "../../arena/gate-file.ts";
import type { Arm, GoldenCase, JudgeConfig, PairwiseJudgement, RubricScore } from "../../arena/types.ts";
import { parseSpec, specHash } from "../../spec/load.ts";
import { exampleInput } from "../spec/spec-fixtures.ts";

const judge: JudgeConfig = {
  endpoint: "http://judge",
  model: "j",
  temperature: 0,
  seed: 7,
  promptVersion: "v",
};
const gate = {
  required: true,
  minWinRateLowerBound: 0.5,
  maxAxisRegression: 0.25,
  minCases: 20,
  minAuditLabels: 10,
  minJudgeAgreement: 0.6,
};

function cases(n: number, critical: number[] = []): GoldenCase[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `c${i}`,
    messages: [{ role: "user" as const, content: "q" }],
    tags: critical.includes(i) ? ["critical"] : [],
    checks: [],
  }));
}

function pair(caseId: string, verdict: Arm | "tie"): PairwiseJudgement {
  const order = (first: Arm) => ({ first, preferred: verdict, raw: "{}" });
  return { caseId, orders: [order("control"), order("treatment")], verdict, consistent: true, judge };
}

function score(caseId: string, arm: Arm, clarity: number): RubricScore {
  return { caseId, arm, scores: { clarity }, judge };
}

/** A run where the treatment wins all cases but 3 ties, clarity equal, and people agree with the judge. */
function input(n: number, overrides: Partial<GateInput> = {}): GateInput {
  const all = cases(n);
  return {
    gate,
    alpha: 0.05,
    cases: all,
    axes: ["clarity"],
    generations: [],
    level1: [],
    similarity: [],
    rubricScores: all.flatMap((c) => [score(c.id, "control", 4), score(c.id, "treatment", 4)]),
    pairwise: all.map((c, i) => pair(c.id, i < 3 ? "tie" : "treatment")),
    audit: all.map((c, i) => ({
      caseId: c.id,
      preferred: i < 3 ? ("tie" as const) : ("treatment" as const),
    })),
    ...overrides,
  };
}

describe("decideGate", () => {
  it("passes a treatment that wins nearly every case without regressing, people agreeing", () => {
    const decision = decideGate(input(20));
    expect(decision.checks.map((c) => [c.name, c.passed])).toEqual([
      ["enough cases", true],
      ["win rate", true],
      ["no clarity regression", true],
      ["critical cases pass Level 1", true],
      ["judge agrees with people", true],
    ]);
    expect(decision.passed).toBe(true);
  });

  it("fails the agreement check without audit labels, saying what to add", () => {
    const { audit: _, ...rest } = input(20);
    const check = decideGate(rest).checks.find((c) => c.name === "judge agrees with people");
    expect(check).toMatchObject({ passed: false, value: "unknown" });
    expect(check?.detail).toContain("give the arena config an `audit` file");
  });

  it("fails an axis whose bound cannot rule out a regression beyond the margin, and says too few cases", () => {
    // Differences alternate +1 / −1: mean 0, but 6 cases leave a wide interval.
    const all = cases(6);
    const rubricScores = all.flatMap((c, i) => [
      score(c.id, "control", 3),
      score(c.id, "treatment", i % 2 ? 2 : 4),
    ]);
    const check = decideGate(input(6, { cases: all, rubricScores })).checks.find(
      (c) => c.name === "no clarity regression",
    );
    expect(check?.passed).toBe(false);
    expect(check?.detail).toContain("too few cases to rule out a regression beyond the margin");
  });

  it("fails on a Level-1 failure of the treatment on a critical case, not on control's", () => {
    const all = cases(20, [3]);
    const failing = (arm: Arm) => [{ caseId: "c3", arm, check: 'contains "order"', passed: false }];
    const controlOnly = decideGate(input(20, { cases: all, level1: failing("control") }));
    expect(controlOnly.checks.find((c) => c.name === "critical cases pass Level 1")?.passed).toBe(true);
    const treatment = decideGate(input(20, { cases: all, level1: failing("treatment") }));
    const check = treatment.checks.find((c) => c.name === "critical cases pass Level 1");
    expect(check).toMatchObject({ passed: false, value: "1 failed" });
    expect(check?.detail).toContain('c3: contains "order"');
  });

  it("does not pass all ties: the point interval at 0.5 is no evidence", () => {
    const all = cases(20);
    const decision = decideGate(input(20, { pairwise: all.map((c) => pair(c.id, "tie")) }));
    expect(decision.results.winRate.ci).toEqual([0.5, 0.5]);
    expect(decision.checks.find((c) => c.name === "win rate")?.passed).toBe(false);
  });
});

describe("exposureBlock", () => {
  const base = parseSpec({ ...exampleInput("promptDuel"), gate: { required: true } });
  const passing: GateFile = {
    version: GATE_FILE_VERSION,
    experiment: base.name,
    specHash: specHash(base),
    datasetHash: "a".repeat(64),
    rubricHash: "b".repeat(64),
    judge,
    createdAt: "2026-11-27T00:00:00Z",
    passed: true,
    checks: [],
    results: {},
  };

  it.each([
    [
      "a spec that does not require a gate",
      { ...base, gate: { ...base.gate, required: false } },
      undefined,
      undefined,
    ],
    [
      "shadow mode, which exposes no one",
      { ...base, rollout: { ...base.rollout, mode: "shadow" as const } },
      undefined,
      undefined,
    ],
    ["a passing gate for this spec", base, passing, undefined],
    ["no gate file", base, undefined, "no offline gate result was supplied"],
    [
      "another spec version's gate",
      base,
      { ...passing, specHash: "f".repeat(64) },
      "another version of the spec",
    ],
    ["a failed gate", base, { ...passing, passed: false }, "the offline gate failed for this spec"],
  ])("%s", (_, spec, gateFile, says) => {
    const block = exposureBlock(spec, gateFile);
    if (says === undefined) expect(block).toBeUndefined();
    else expect(block).toContain(says);
  });
});

describe("decideGate on thin evidence", () => {
  it("fails with too few cases, even when every one is won", () => {
    const decision = decideGate(input(5, { gate: { ...gate, minCases: 20 } }));
    expect(decision.checks.find((c) => c.name === "enough cases")).toMatchObject({
      passed: false,
      value: "5",
    });
    expect(decision.passed).toBe(false);
  });

  it("never gives a point interval: all 20 cases won still leaves a Wilson bound below 1", () => {
    const all = cases(20);
    const decision = decideGate(input(20, { pairwise: all.map((c) => pair(c.id, "treatment")) }));
    expect(decision.results.winRateLowerBound).toBeLessThan(1);
    expect(decision.results.winRateLowerBound).toBeGreaterThan(0.5);
  });

  it("calls agreement unknown below gate.minAuditLabels, or when judge and people used one category", () => {
    const few = decideGate(input(20, { audit: input(20).audit?.slice(0, 5) }));
    expect(few.checks.find((c) => c.name === "judge agrees with people")?.detail).toContain(
      "fewer than gate.minAuditLabels",
    );
    const all = cases(20);
    const single = decideGate(
      input(20, {
        pairwise: all.map((c) => pair(c.id, "treatment")),
        audit: all.map((c) => ({ caseId: c.id, preferred: "treatment" as const })),
      }),
    );
    const check = single.checks.find((c) => c.name === "judge agrees with people");
    expect(check).toMatchObject({ passed: false, value: "unknown" });
    expect(check?.detail).toContain("κ is undefined");
  });

  it("fails, not crashes, when fewer than two cases were scored", () => {
    const one = cases(1);
    const decision = decideGate(
      input(1, {
        cases: one,
        gate: { ...gate, minCases: 1 },
        rubricScores: [score("c0", "control", 4), score("c0", "treatment", 4)],
        pairwise: [pair("c0", "treatment")],
      }),
    );
    expect(decision.checks.find((c) => c.name === "no clarity regression")?.passed).toBe(false);
  });
});

describe("truncated answers", () => {
  it("are counted per arm from finish_reason length", () => {
    const generation = (caseId: string, arm: Arm, finishReason: string | null) => ({
      caseId,
      variant: arm,
      arm,
      deployment: "d",
      endpoint: "http://e",
      model: "m",
      params: {},
      seed: 7,
      requestHash: "h",
      text: "answer",
      finishReason,
      latencyMs: 1,
      attempts: 1,
      at: "t",
    });
    const generations = [
      generation("c0", "control", "stop"),
      generation("c0", "treatment", "length"),
      generation("c1", "treatment", "length"),
    ];
    expect(decideGate(input(20, { generations })).results.truncated).toEqual({ control: 0, treatment: 2 });
  });
});
