import { describe, expect, it } from "vitest";
import {
  guardrailMetric,
  guardrailMetricNames,
  guardrailMetrics,
  isCostMetric,
  routerMetricNames,
} from "../../spec/guardrail-metrics.ts";
import { METRIC_NAME } from "../../spec/primitives.ts";

// The router metric names as DESIGN.md lists them ("Metric names"); the catalogue may only use these.
const designMetricNames = [
  "llmab_requests_total",
  "llmab_assignments_total",
  "llmab_ttft_seconds",
  "llmab_tpot_seconds",
  "llmab_itl_seconds",
  "llmab_e2e_seconds",
  "llmab_tokens_total",
  "llmab_cost_usd_total",
  "llmab_outcome_observations_total",
  "llmab_outcome_sum",
  "llmab_outcome_sum_of_squares",
  "llmab_experiment_state",
  "llmab_treatment_fraction",
];

const entries = Object.entries(guardrailMetrics);

describe("guardrail metric catalogue", () => {
  it("knows exactly the router metrics of DESIGN.md", () => {
    expect([...routerMetricNames].sort()).toEqual([...designMetricNames].sort());
  });

  it.each(entries)("%s is built only from router metrics", (_name, metric) => {
    const used =
      metric.measure.kind === "quantile"
        ? [metric.measure.histogram]
        : [metric.measure.numerator.metric, metric.measure.denominator.metric];
    for (const name of used) expect(designMetricNames).toContain(name);
  });

  it.each(entries)("%s is a valid metric name and lower-is-better", (name, metric) => {
    expect(name).toMatch(METRIC_NAME);
    expect(metric.lowerIsBetter).toBe(true);
  });

  it("has p50, p95 and p99 of each latency, split by replica state and in seconds", () => {
    for (const latency of ["ttft", "tpot", "itl", "e2e"]) {
      for (const [label, quantile] of [
        ["p50", 0.5],
        ["p95", 0.95],
        ["p99", 0.99],
      ] as const) {
        const metric = guardrailMetric(`${latency}_${label}_seconds`);
        expect(metric?.measure).toEqual({
          kind: "quantile",
          histogram: `llmab_${latency}_seconds`,
          quantile,
        });
        expect(metric?.supportsReplicaState).toBe(true);
        expect(metric?.unit).toBe("seconds");
      }
    }
  });

  it("splits only latency metrics by replica state", () => {
    const split = entries.filter(([, metric]) => metric.supportsReplicaState).map(([name]) => name);
    expect(split.every((name) => /^(ttft|tpot|itl|e2e)_p\d\d_seconds$/.test(name))).toBe(true);
    expect(split).toHaveLength(12);
  });

  it.each([
    ["error_rate", "ratio", 'code!~"2.."', "llmab_requests_total"],
    ["cost_per_request_usd", "usd", undefined, "llmab_requests_total"],
    ["cost_per_session_usd", "usd", undefined, "llmab_assignments_total"],
    ["output_tokens_per_request", "tokens", 'kind="output"', "llmab_requests_total"],
  ])("computes %s as a %s ratio", (name, unit, matchers, denominator) => {
    const metric = guardrailMetric(name);
    expect(metric?.unit).toBe(unit);
    expect(metric?.measure.kind).toBe("ratio");
    if (metric?.measure.kind !== "ratio") return;
    expect(metric.measure.numerator.matchers).toBe(matchers);
    expect(metric.measure.denominator.metric).toBe(denominator);
  });

  it("does not mistake inherited object keys for catalogue entries", () => {
    expect(guardrailMetric("constructor")).toBeUndefined();
    expect(guardrailMetric("__proto__")).toBeUndefined();
  });

  it("marks the dollar metrics as cost metrics", () => {
    expect(guardrailMetricNames.filter(isCostMetric)).toEqual([
      "cost_per_request_usd",
      "cost_per_session_usd",
    ]);
  });
});
