import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { LatencyHistogram } from "../../router/latency-histogram.ts";
import { E2E_BUCKETS, RouterMetrics, TOKEN_GAP_BUCKETS, TTFT_BUCKETS } from "../../router/metrics.ts";
import { RequestTimer } from "../../router/timing.ts";

/** The value of one exposition line, e.g. `llmab_requests_total{...} 3`. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return undefined;
}

function timing(arrivals: number[], end: number, tokens?: number) {
  const timer = new RequestTimer(0);
  for (const at of arrivals) timer.arrival(at);
  return timer.finish(end, tokens);
}

describe("router metrics", () => {
  it("exposes every metric name of DESIGN.md with help text", async () => {
    const text = await new RouterMetrics().metrics();
    for (const name of [
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
    ]) {
      expect(text).toMatch(new RegExp(`# HELP ${name} \\S`));
    }
  });

  it("keeps each router's counts in its own registry", async () => {
    const a = new RouterMetrics();
    const b = new RouterMetrics();
    a.observeExchange({ experiment: "e", variant: "control", replicaState: "warm" }, { status: 200 });
    expect(sample(await a.metrics(), "llmab_requests_total", { code: "200" })).toBe(1);
    expect(sample(await b.metrics(), "llmab_requests_total", { code: "200" })).toBeUndefined();
  });

  it("records a streamed exchange: status, latencies by replica state, every ITL gap, tokens and cost", async () => {
    const metrics = new RouterMetrics();
    const labels = { experiment: "duel", variant: "treatment", replicaState: "cold" } as const;
    metrics.observeExchange(labels, {
      status: 200,
      timing: timing([0.3, 0.32, 0.35, 0.355], 0.4, 4),
      usage: { promptTokens: 100, completionTokens: 4 },
      costUsd: 0.002,
    });
    const text = await metrics.metrics();
    const series = { experiment: "duel", variant: "treatment", replica_state: "cold" };
    expect(
      sample(text, "llmab_requests_total", { experiment: "duel", variant: "treatment", code: "200" }),
    ).toBe(1);
    expect(sample(text, "llmab_ttft_seconds_count", series)).toBe(1);
    expect(sample(text, "llmab_ttft_seconds_sum", series)).toBeCloseTo(0.3, 9);
    expect(sample(text, "llmab_itl_seconds_count", series)).toBe(3);
    // Gaps 0.02, 0.03 and 0.005 s.
    expect(sample(text, "llmab_itl_seconds_bucket", { ...series, le: "0.0075" })).toBe(1);
    expect(sample(text, "llmab_itl_seconds_bucket", { ...series, le: "0.025" })).toBe(2);
    expect(sample(text, "llmab_itl_seconds_bucket", { ...series, le: "0.04" })).toBe(3);
    expect(sample(text, "llmab_tpot_seconds_sum", series)).toBeCloseTo(0.1 / 3, 9);
    expect(sample(text, "llmab_e2e_seconds_count", series)).toBe(1);
    expect(sample(text, "llmab_tokens_total", { kind: "input" })).toBe(100);
    expect(sample(text, "llmab_tokens_total", { kind: "output" })).toBe(4);
    expect(sample(text, "llmab_cost_usd_total", { variant: "treatment" })).toBe(0.002);
  });

  it("counts a failed exchange without recording its latency", async () => {
    const metrics = new RouterMetrics();
    metrics.observeExchange(
      { experiment: "e", variant: "control", replicaState: "warm" },
      { status: 504, timing: timing([], 300) },
    );
    const text = await metrics.metrics();
    expect(sample(text, "llmab_requests_total", { code: "504" })).toBe(1);
    expect(sample(text, "llmab_e2e_seconds_count", { variant: "control" })).toBeUndefined();
  });

  it("sums outcomes and their squares, accepting negative values", async () => {
    const metrics = new RouterMetrics();
    for (const value of [1, -2, 3]) metrics.observeOutcome("e", "control", "rating_delta", value);
    const text = await metrics.metrics();
    const labels = { metric: "rating_delta" };
    expect(sample(text, "llmab_outcome_observations_total", labels)).toBe(3);
    expect(sample(text, "llmab_outcome_sum", labels)).toBe(2);
    expect(sample(text, "llmab_outcome_sum_of_squares", labels)).toBe(14);
    expect(() => metrics.observeOutcome("e", "control", "x", Number.NaN)).toThrow(/finite/);
  });

  it("sets exactly one experiment state to 1 and the treatment fractions", async () => {
    const metrics = new RouterMetrics();
    metrics.setExperimentState("e", "paused");
    metrics.setExperimentState("e", "rolled_back");
    metrics.setTreatmentFractions("e", { treatment: 0 });
    const text = await metrics.metrics();
    expect(sample(text, "llmab_experiment_state", { state: "active" })).toBe(0);
    expect(sample(text, "llmab_experiment_state", { state: "paused" })).toBe(0);
    expect(sample(text, "llmab_experiment_state", { state: "rolled_back" })).toBe(1);
    expect(sample(text, "llmab_treatment_fraction", { variant: "treatment" })).toBe(0);
  });

  it("gives the assigner its counters bound to one experiment", async () => {
    const metrics = new RouterMetrics();
    const counters = metrics.countersFor("e");
    counters.assignment("treatment");
    counters.unitMissing();
    counters.storeFailure("redis_get");
    const text = await metrics.metrics();
    expect(sample(text, "llmab_assignments_total", { experiment: "e", variant: "treatment" })).toBe(1);
    expect(sample(text, "llmab_unit_missing_total", { experiment: "e" })).toBe(1);
    expect(sample(text, "llmab_store_failures_total", { kind: "redis_get" })).toBe(1);
  });

  it.each([
    ["TTFT", TTFT_BUCKETS, 120],
    ["token gaps", TOKEN_GAP_BUCKETS, 2.5],
    ["e2e", E2E_BUCKETS, 600],
  ])("has %s buckets strictly increasing up to %s s, past prom-client's 10 s default", (_, buckets, top) => {
    expect([...buckets].sort((a, b) => a - b)).toEqual([...buckets]);
    expect(new Set(buckets).size).toBe(buckets.length);
    expect(buckets.at(-1)).toBe(top);
  });

  it("keeps neighbouring TTFT bounds at most 12.5 % apart from 0.1 s to 2.5 s, where guardrails sit", () => {
    const dense = TTFT_BUCKETS.filter((bound) => bound >= 0.1 && bound <= 2.5);
    expect(dense[0]).toBe(0.1);
    expect(dense.at(-1)).toBe(2.5);
    for (let i = 1; i < dense.length; i++) {
      expect(
        (dense[i] as number) / (dense[i - 1] as number),
        `${dense[i - 1]} → ${dense[i]}`,
      ).toBeLessThanOrEqual(1.125 + 1e-9);
    }
  });
});

describe("latency histogram", () => {
  it("writes the same exposition text as prom-client's Histogram for the same observations", async () => {
    const values = [0.0004, 0.001, 0.0011, 0.02, 0.02, 0.5, 3, 1e6, 0.075];
    const config = { name: "x_seconds", help: "A latency.", labelNames: ["experiment", "variant"] as const };
    const buckets = [0.001, 0.01, 0.1, 1];
    const oursRegistry = new Registry();
    const theirsRegistry = new Registry();
    const ours = new LatencyHistogram({ ...config, buckets, registers: [oursRegistry] });
    const theirs = new Histogram({ ...config, buckets, registers: [theirsRegistry] });
    for (const [i, value] of values.entries()) {
      const variant = i % 2 === 0 ? "control" : "treatment";
      ours.series("e", variant).observe(value);
      theirs.observe({ experiment: "e", variant }, value);
    }
    expect(await oursRegistry.metrics()).toBe(await theirsRegistry.metrics());
    // prom-client adds empty exemplar slots to its values; ours has no exemplars at all.
    const withoutExemplars = (metrics: Awaited<ReturnType<Registry["getMetricsAsJSON"]>>) =>
      metrics.map((metric) => ({
        ...metric,
        values: metric.values.map(({ exemplar: _, ...value }: Record<string, unknown>) => value),
      }));
    expect(withoutExemplars(await oursRegistry.getMetricsAsJSON())).toEqual(
      withoutExemplars(await theirsRegistry.getMetricsAsJSON()),
    );
  });

  it("ignores non-finite values, resets with the registry and rejects bad buckets or label counts", async () => {
    const registry = new Registry();
    const histogram = new LatencyHistogram({
      name: "y",
      help: "h",
      labelNames: ["a"],
      buckets: [1],
      registers: [registry],
    });
    histogram.series("x").observe(Number.NaN);
    histogram.series("x").observe(Number.POSITIVE_INFINITY);
    expect(await registry.metrics()).toContain('y_count{a="x"} 0');
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain("y_count");
    expect(() => histogram.series("x", "extra")).toThrow(/takes 1 label/);
    expect(
      () => new LatencyHistogram({ name: "z", help: "h", labelNames: [], buckets: [1, 1], registers: [] }),
    ).toThrow(/strictly increasing/);
  });
});
