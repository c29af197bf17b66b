import { describe, expect, it } from "vitest";
import {
  type DecisionInput,
  decide,
  type GuardrailEvidence,
  type MetricEvidence,
} from "../../stats/decision.ts";
import { groupSequentialDesign } from "../../stats/group-sequential.ts";
import { judgeGuardrail } from "../../stats/guardrail-test.ts";
import { twoProportionZTest } from "../../stats/proportions.ts";
import { welchTTest } from "../../stats/welch.ts";

const ALPHA = 0.05;

/** Resolution rate 0.60 in control; treatment at `rate`, 5,000 units per arm. */
function resolution(rate: number, n = 5000): MetricEvidence {
  const estimate = twoProportionZTest(
    { n, successes: Math.round(0.6 * n) },
    { n, successes: Math.round(rate * n) },
    { alpha: ALPHA },
  );
  return { name: "resolution_rate", direction: "increase", estimate };
}

/** Latency-like guardrail: control mean 1.0 s, treatment `mean`, sd 0.5, 5,000 units per arm. */
function latency(mean: number, margin = 0.1, n = 5000): GuardrailEvidence {
  const estimate = welchTTest(
    { n, mean: 1.0, variance: 0.25 },
    { n, mean, variance: 0.25 },
    { alpha: 2 * ALPHA },
  );
  return {
    name: "e2e_mean_seconds",
    direction: "decrease",
    relativeMargin: margin,
    estimate,
    minSamples: 100,
    samples: n,
  };
}

function input(overrides: Partial<DecisionInput> = {}): DecisionInput {
  return {
    alpha: ALPHA,
    correction: "benjamini-hochberg",
    srm: { pValue: 0.4, alarm: false },
    progress: { kind: "fixed", fraction: 1 },
    primary: [resolution(0.64)],
    guardrails: [latency(1.0)],
    secondary: [],
    ...overrides,
  };
}

describe("decide", () => {
  const cases: { name: string; input: DecisionInput; verdict: string; reason: RegExp }[] = [
    {
      name: "a significant primary win with guardrails inside their margins ships",
      input: input(),
      verdict: "ship",
      reason: /resolution_rate wins/,
    },
    {
      name: "an SRM alarm holds the verdict even when the primary metric wins",
      input: input({ srm: { pValue: 1e-6, alarm: true } }),
      verdict: "hold",
      reason: /sample-ratio mismatch/,
    },
    {
      name: "a guardrail worse than its margin at its best bound rolls back",
      input: input({ guardrails: [latency(1.25)] }),
      verdict: "rollback",
      reason: /guardrail breached: e2e_mean_seconds/,
    },
    {
      name: "a primary metric significantly worse rolls back",
      input: input({ primary: [resolution(0.55)] }),
      verdict: "rollback",
      reason: /significantly worse/,
    },
    {
      name: "a fixed-horizon design read before its planned sample keeps running",
      input: input({ progress: { kind: "fixed", fraction: 0.5 } }),
      verdict: "keep running",
      reason: /50\.00 % of its planned sample/,
    },
    {
      name: "no significant primary effect at the horizon is inconclusive",
      input: input({ primary: [resolution(0.605)] }),
      verdict: "inconclusive",
      reason: /no significant effect/,
    },
    {
      name: "a primary win with a guardrail not shown non-inferior holds at the horizon",
      input: input({ guardrails: [latency(1.1, 0.1, 800)] }),
      verdict: "hold",
      reason: /not every guardrail is shown non-inferior/,
    },
    {
      name: "a guardrail with too few samples is inconclusive, never a pass",
      input: input({ guardrails: [{ ...latency(1.0), samples: 50 }] }),
      verdict: "hold",
      reason: /below the minimum of 100/,
    },
  ];
  it.each(cases)("$name", ({ input, verdict, reason }) => {
    const decision = decide(input);
    expect(decision.verdict).toBe(verdict);
    expect(decision.reasons.join("\n")).toMatch(reason);
  });

  it("holds an interim look to its sequential boundary, not to alpha", () => {
    const design = groupSequentialDesign({
      looks: [0.25, 0.5, 0.75, 1],
      alpha: ALPHA,
      spending: "obrien-fleming",
    });
    // z ≈ 3.2 clears the look-2 boundary (2.963) but a z ≈ 2.5 does not.
    const strong = resolution(0.631, 5000);
    const weak = resolution(0.624, 5000);
    expect(Math.abs(strong.estimate!.statistic)).toBeGreaterThan(design.boundaries[1]!);
    expect(Math.abs(weak.estimate!.statistic)).toBeLessThan(design.boundaries[1]!);
    expect(weak.estimate!.pValue).toBeLessThan(ALPHA);
    const at = (m: MetricEvidence) =>
      decide(input({ primary: [m], progress: { kind: "sequential", design, lookIndex: 1 } }));
    expect(at(strong).verdict).toBe("ship");
    expect(at(weak).verdict).toBe("keep running");
    expect(at(weak).metrics[0]!.boundary).toBeCloseTo(2.9631, 3);
  });

  it("waits for the first registered look before deciding anything but harm", () => {
    const design = groupSequentialDesign({ looks: [0.5, 1], alpha: ALPHA, spending: "obrien-fleming" });
    const progress = { kind: "sequential" as const, design, lookIndex: null };
    expect(decide(input({ progress })).verdict).toBe("keep running");
    expect(decide(input({ progress, guardrails: [latency(1.3)] })).verdict).toBe("rollback");
  });

  it("corrects secondary metrics and names a harmful one without blocking the ship", () => {
    const secondary: MetricEvidence[] = [
      {
        name: "response_tokens",
        direction: "decrease",
        estimate: welchTTest({ n: 5000, mean: 100, variance: 900 }, { n: 5000, mean: 104, variance: 900 }),
      },
      {
        name: "csat",
        direction: "increase",
        estimate: welchTTest({ n: 5000, mean: 4.0, variance: 1 }, { n: 5000, mean: 4.02, variance: 1 }),
      },
    ];
    const decision = decide(input({ secondary }));
    expect(decision.verdict).toBe("ship");
    const tokens = decision.metrics.find((m) => m.name === "response_tokens")!;
    expect(tokens.status).toBe("loss");
    expect(tokens.adjustedPValue).toBeGreaterThanOrEqual(tokens.pValue!);
    expect(decision.reasons.join("\n")).toMatch(/secondary metric response_tokens is significantly worse/);
  });
});

describe("judgeGuardrail", () => {
  it("passes when the one-sided bound on the harmful side stays inside the margin", () => {
    const g = judgeGuardrail(latency(1.02));
    expect(g.status).toBe("pass");
    expect(g.bound!).toBeLessThan(0.1);
  });

  it("treats higher-is-better guardrails symmetrically", () => {
    const estimate = welchTTest(
      { n: 5000, mean: 4.0, variance: 1 },
      { n: 5000, mean: 3.0, variance: 1 },
      { alpha: 0.1 },
    );
    const g = judgeGuardrail({
      name: "csat",
      direction: "increase",
      relativeMargin: 0.05,
      estimate,
      minSamples: 100,
      samples: 5000,
    });
    expect(g.status).toBe("breached");
  });

  const errorRate = (treatmentLo: number, treatmentHi: number, controlMean: number): GuardrailEvidence => ({
    name: "error_rate",
    direction: "decrease",
    ceiling: { limit: 0.001, side: "max", treatmentLo, treatmentHi, controlMean },
    estimate: welchTTest({ n: 5000, mean: 0.01, variance: 0.01 }, { n: 5000, mean: 0.01, variance: 0.01 }),
    minSamples: 100,
    samples: 5000,
  });
  it.each([
    {
      name: "passes when the treatment's upper bound is under the ceiling",
      g: errorRate(0.0001, 0.0008, 0.0005),
      status: "pass",
    },
    {
      name: "breaches when even the treatment's lower bound is over the ceiling",
      g: errorRate(0.002, 0.004, 0.0005),
      status: "breached",
    },
    {
      name: "is inconclusive when the bounds straddle the ceiling",
      g: errorRate(0.0005, 0.002, 0.0005),
      status: "inconclusive",
    },
    {
      name: "does not roll back a treatment when control is over the ceiling too",
      g: errorRate(0.008, 0.012, 0.01),
      status: "inconclusive",
    },
  ])("ceiling: $name", ({ g, status }) => {
    expect(judgeGuardrail(g).status).toBe(status);
  });

  it("reports live-only guardrails without judging them", () => {
    const g = judgeGuardrail({
      name: "ttft_p95_seconds",
      direction: "decrease",
      relativeMargin: 0.1,
      estimate: undefined,
      minSamples: 100,
      samples: 0,
      liveOnly: true,
    });
    expect(g.status).toBe("live only");
    expect(
      judgeGuardrail({
        name: "x",
        direction: "decrease",
        relativeMargin: 0.1,
        estimate: undefined,
        minSamples: 1,
        samples: 0,
      }).status,
    ).toBe("no data");
  });
});
