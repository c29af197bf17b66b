import { describe, expect, it } from "vitest";
import {
  type OutcomeDraw,
  outcomeDrawSchema,
  type Scenario,
  trafficSchema,
} from "../../../local/scenario-schema.ts";
import { type OutcomeNoise, planConversation } from "../../../local/traffic/conversations.ts";
import { outcomeMetrics, outcomeValue } from "../../../local/traffic/outcomes.ts";
import { loadSpecFile } from "../../../spec/load.ts";
import { normQuantile } from "../../../stats/distributions.ts";

const spec = await loadSpecFile("examples/support-bot-fine-tune.yaml");
const traffic = trafficSchema.parse({});
const Z = normQuantile(1 - 0.5e-6);

const draw = (value: unknown): OutcomeDraw => outcomeDrawSchema.parse(value);
const noise = (values: Partial<OutcomeNoise>): OutcomeNoise => ({
  uniform: 0.5,
  normal: 0,
  report: 0,
  ...values,
});

function outcomes(overrides: Record<string, Record<string, unknown>> = {}): Scenario["outcomes"] {
  const base: Record<string, Record<string, unknown>> = {
    control: { resolution_rate: { probability: 0.55 }, csat: { mean: 3.6, sd: 1 } },
    treatment: { resolution_rate: { probability: 0.67 }, csat: { mean: 3.9, sd: 1 } },
    ...overrides,
  };
  return Object.fromEntries(
    Object.entries(base).map(([variant, metrics]) => [
      variant,
      Object.fromEntries(Object.entries(metrics).map(([metric, value]) => [metric, draw(value)])),
    ]),
  );
}

describe("outcomeValue", () => {
  it.each([
    {
      name: "a binary outcome is 1 under the probability",
      d: { probability: 0.3 },
      n: { uniform: 0.29 },
      failed: false,
      value: 1,
    },
    {
      name: "a binary outcome is 0 at or above it",
      d: { probability: 0.3 },
      n: { uniform: 0.3 },
      failed: false,
      value: 0,
    },
    {
      name: "a failed conversation takes ifError",
      d: { probability: 0.9, ifError: 0 },
      n: { uniform: 0.1 },
      failed: true,
      value: 0,
    },
    {
      name: "ifError only applies to failed conversations",
      d: { probability: 0.9, ifError: 0 },
      n: { uniform: 0.1 },
      failed: false,
      value: 1,
    },
    {
      name: "without ifError a failed conversation draws as usual",
      d: { probability: 0.9 },
      n: { uniform: 0.1 },
      failed: true,
      value: 1,
    },
    {
      name: "a binary outcome is lost at or above its reportShare",
      d: { probability: 0.9, reportShare: 0.65 },
      n: { uniform: 0.1, report: 0.65 },
      failed: false,
      value: undefined,
    },
    {
      name: "a binary outcome under its reportShare is reported",
      d: { probability: 0.9, reportShare: 0.65 },
      n: { uniform: 0.1, report: 0.64 },
      failed: false,
      value: 1,
    },
    {
      name: "a lost report stays lost when the conversation failed",
      d: { probability: 0.9, ifError: 0, reportShare: 0.65 },
      n: { uniform: 0.1, report: 0.9 },
      failed: true,
      value: undefined,
    },
    {
      name: "a continuous outcome is mean + sd × normal",
      d: { mean: 3, sd: 2 },
      n: { normal: 0.25 },
      failed: false,
      value: 3.5,
    },
    {
      name: "it is clipped below at min",
      d: { mean: 3, sd: 2, min: 1 },
      n: { normal: -5 },
      failed: false,
      value: 1,
    },
    {
      name: "it is clipped above at max",
      d: { mean: 3, sd: 2, max: 5 },
      n: { normal: 5 },
      failed: false,
      value: 5,
    },
    {
      name: "it is rounded when asked",
      d: { mean: 3, sd: 1, round: true },
      n: { normal: 0.6 },
      failed: false,
      value: 4,
    },
    {
      name: "it is clipped before rounding",
      d: { mean: 3, sd: 1, min: 1, max: 5, round: true },
      n: { normal: 9 },
      failed: false,
      value: 5,
    },
    {
      name: "a failed conversation draws a continuous outcome as usual",
      d: { mean: 3, sd: 1 },
      n: { normal: 1 },
      failed: true,
      value: 4,
    },
    {
      name: "it is reported under reportShare",
      d: { mean: 3, sd: 1, reportShare: 0.2 },
      n: { report: 0.19 },
      failed: false,
      value: 3,
    },
    {
      name: "it is not reported at or above reportShare",
      d: { mean: 3, sd: 1, reportShare: 0.2 },
      n: { report: 0.2 },
      failed: false,
      value: undefined,
    },
  ])("$name", ({ d, n, failed, value }) => {
    expect(outcomeValue(draw(d), noise(n), failed)).toBe(value);
  });

  it("gives binary rates within binomial bounds over many conversations", () => {
    const n = 8000;
    const p = 0.55;
    let ones = 0;
    for (let index = 0; index < n; index++) {
      const plan = planConversation(21, index, traffic, ["resolution_rate"]);
      ones += outcomeValue(draw({ probability: p }), plan.outcomeNoise.resolution_rate!, false)!;
    }
    expect(Math.abs(ones - n * p)).toBeLessThan(Z * Math.sqrt(n * p * (1 - p)));
  });

  it("gives continuous means, clipping and report shares within their sampling bounds", () => {
    const n = 8000;
    const survey = draw({ mean: 3.6, sd: 1.2, min: 1, max: 5, round: true, reportShare: 0.3 });
    const raw = draw({ mean: 3.6, sd: 1.2 });
    let reported = 0;
    let sum = 0;
    for (let index = 0; index < n; index++) {
      const plan = planConversation(22, index, traffic, ["csat"]);
      const value = outcomeValue(survey, plan.outcomeNoise.csat!, false);
      sum += outcomeValue(raw, plan.outcomeNoise.csat!, false)!;
      if (value === undefined) continue;
      reported++;
      expect([1, 2, 3, 4, 5]).toContain(value);
    }
    expect(Math.abs(sum / n - 3.6)).toBeLessThan((Z * 1.2) / Math.sqrt(n));
    expect(Math.abs(reported - n * 0.3)).toBeLessThan(Z * Math.sqrt(n * 0.3 * 0.7));
  });
});

describe("outcomeMetrics", () => {
  it("lists the spec's outcome metrics, sorted, when every variant has a draw for each", () => {
    expect(outcomeMetrics(spec, outcomes())).toEqual(["csat", "resolution_rate"]);
  });

  it.each([
    {
      name: "a spec variant without draws",
      outcomes: () => {
        const { treatment: _, ...rest } = outcomes();
        return rest;
      },
      message: /outcomes\.treatment is missing/,
    },
    {
      name: "a spec metric without a draw",
      outcomes: () => outcomes({ control: { resolution_rate: { probability: 0.5 } } }),
      message: /outcomes\.control\.csat is missing/,
    },
    {
      name: "a metric the spec does not declare",
      outcomes: () =>
        outcomes({
          control: {
            resolution_rate: { probability: 0.5 },
            csat: { mean: 3, sd: 1 },
            nps: { mean: 1, sd: 1 },
          },
        }),
      message: /outcomes\.control\.nps is not an outcome of spec support-bot-fine-tune/,
    },
    {
      name: "a variant the spec does not declare",
      outcomes: () =>
        outcomes({ shadow: { resolution_rate: { probability: 0.5 }, csat: { mean: 3, sd: 1 } } }),
      message: /outcomes\.shadow is not a variant/,
    },
    {
      name: "a continuous draw for a binary metric",
      outcomes: () =>
        outcomes({ control: { resolution_rate: { mean: 0.5, sd: 0.1 }, csat: { mean: 3, sd: 1 } } }),
      message: /outcomes\.control\.resolution_rate must be \{ probability \}/,
    },
  ])("refuses $name, naming it", ({ outcomes: make, message }) => {
    expect(() => outcomeMetrics(spec, make())).toThrow(message);
  });
});
