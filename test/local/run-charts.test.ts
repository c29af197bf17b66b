import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { chartQueries, readCharts, toChartSeries } from "../../local/run-charts.ts";
import type { ChartSeries, DemoCharts } from "../../local/run-result.ts";
import { type RunningPrometheus, startPrometheus } from "../../local/supervisor/prometheus.ts";
import { RouterMetrics } from "../../router/metrics.ts";
import type { ReplicaState } from "../../router/warmth.ts";
import { loadSpecFile } from "../../spec/load.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { promqlErrors, selectorsOf } from "../monitoring/dashboard-queries.ts";

const SPEC_PATH = fileURLToPath(new URL("../../examples/support-bot-fine-tune.yaml", import.meta.url));
const CHARTS: readonly (keyof DemoCharts)[] = ["ttftP95", "itlP95", "split", "requestRate", "errorRate"];
const START = 1_780_000_000;

let spec: ExperimentSpec;
beforeAll(async () => {
  spec = await loadSpecFile(SPEC_PATH);
});

describe("toChartSeries", () => {
  it("times points from the start in tenths of a second and keeps the values", () => {
    const [series] = toChartSeries(
      [
        {
          metric: { variant: "control" },
          values: [
            [START, "0.5"],
            [START + 2.04, "0.25"],
            [START + 3.96, "1e-3"],
          ],
        },
      ],
      START,
    );
    expect(series).toEqual({
      variant: "control",
      points: [
        [0, 0.5],
        [2, 0.25],
        [4, 0.001],
      ],
    });
  });

  it.each(["NaN", "+Inf", "-Inf"])("turns %s into a gap, not a number", (value) => {
    const [series] = toChartSeries(
      [
        {
          metric: { variant: "treatment" },
          values: [
            [START, "0.3"],
            [START + 2, value],
            [START + 4, "0"],
          ],
        },
      ],
      START,
    );
    expect(series?.points).toEqual([
      [0, 0.3],
      [2, null],
      [4, 0],
    ]);
  });

  it("keeps the replica state only when it is warm or cold", () => {
    const series = toChartSeries(
      [
        { metric: { variant: "control", replica_state: "warm" }, values: [] },
        { metric: { variant: "control", replica_state: "cold" }, values: [] },
        { metric: { variant: "control", replica_state: "unknown" }, values: [] },
        { metric: { variant: "treatment" }, values: [] },
      ],
      START,
    );
    expect(series.map((s) => ("replicaState" in s ? s.replicaState : "(none)"))).toEqual([
      "(none)",
      "cold",
      "warm",
      "(none)",
    ]);
  });

  it("sorts by variant, then replica state, and names a series without a variant all", () => {
    const series = toChartSeries(
      [
        { metric: { variant: "treatment", replica_state: "warm" }, values: [] },
        { metric: { variant: "control", replica_state: "warm" }, values: [] },
        { metric: {}, values: [] },
        { metric: { variant: "treatment", replica_state: "cold" }, values: [] },
        { metric: { variant: "control", replica_state: "cold" }, values: [] },
      ],
      START,
    );
    expect(series.map((s) => `${s.variant}/${s.replicaState ?? "-"}`)).toEqual([
      "all/-",
      "control/cold",
      "control/warm",
      "treatment/cold",
      "treatment/warm",
    ]);
  });

  it("returns no series for an empty result", () => {
    expect(toChartSeries([], START)).toEqual([]);
  });
});

describe("chartQueries", () => {
  it("has a query for every chart of the report", () => {
    expect(Object.keys(chartQueries(spec)).sort()).toEqual([...CHARTS].sort());
  });

  it.each(CHARTS)("writes %s as PromQL that parses without errors", (chart) => {
    expect(promqlErrors(chartQueries(spec)[chart])).toEqual([]);
  });

  it.each(CHARTS)("selects only this experiment's router series in %s", (chart) => {
    const selectors = selectorsOf(chartQueries(spec)[chart]);
    expect(selectors.length).toBeGreaterThan(0);
    for (const { metric, labels } of selectors) {
      expect(metric).toMatch(/^llmab_/);
      expect(labels).toContain("experiment");
    }
    expect(chartQueries(spec)[chart]).toContain(`experiment="${spec.name}"`);
  });

  it("reads latency over the local guardrail window and the split over three of them", () => {
    const queries = chartQueries(spec);
    expect(spec.monitoring.local.window).toBe("10s");
    for (const chart of ["ttftP95", "itlP95", "requestRate", "errorRate"] as const) {
      expect(queries[chart]).toContain("[10s]");
      expect(queries[chart]).not.toContain("[30s]");
    }
    expect(queries.split).toContain("[30s]");
    expect(queries.ttftP95).toContain("llmab_ttft_seconds_bucket");
    expect(queries.itlP95).toContain("llmab_itl_seconds_bucket");
  });
});

describe("chartQueries against a real Prometheus", () => {
  let prometheus: RunningPrometheus | undefined;
  beforeAll(async () => {
    // No targets: an empty TSDB still parses and type-checks every query it is asked.
    prometheus = await startPrometheus(
      stringify({ global: { scrape_interval: "1s", evaluation_interval: "2s" }, scrape_configs: [] }),
    );
  }, 60_000);
  afterAll(async () => {
    await prometheus?.stop();
  });

  it.each(CHARTS)("accepts the %s range query", async (chart) => {
    if (prometheus === undefined) throw new Error("Prometheus did not start");
    const end = Math.floor(Date.now() / 1000);
    const series = await prometheus.queryRange(chartQueries(spec)[chart], end - 60, end, 2);
    expect(series).toEqual([]);
  });

  it("refuses a broken query, so the checks above can fail", async () => {
    if (prometheus === undefined) throw new Error("Prometheus did not start");
    const end = Math.floor(Date.now() / 1000);
    await expect(prometheus.queryRange("sum by (variant (x)", end - 60, end, 2)).rejects.toThrow(
      /Prometheus refused the range query/,
    );
  });
});

/**
 * A router's metrics endpoint that serves the same traffic every scrape: per scrape, control 10
 * good warm answers and one good cold one, treatment 8 good and 2 failed warm answers, and five
 * new units per variant.
 */
function steadyRouter(experiment: string): Server {
  const metrics = new RouterMetrics();
  const answer = (variant: string, replicaState: ReplicaState, status: number, ttft: number) =>
    metrics.observeExchange(
      { experiment, variant, replicaState },
      {
        status,
        timing: {
          ttft,
          e2e: ttft + 1,
          itl: [0.02, 0.02, 0.03],
          tpot: 0.02,
          outputTokens: 4,
          outputTokensSource: "usage",
          contentEvents: 4,
        },
      },
    );
  return createServer((_request, response) => {
    for (let i = 0; i < 10; i++) answer("control", "warm", 200, 0.3);
    answer("control", "cold", 200, 0.9);
    for (let i = 0; i < 8; i++) answer("treatment", "warm", 200, 0.35);
    for (let i = 0; i < 2; i++) answer("treatment", "warm", 500, 0.35);
    for (let i = 0; i < 5; i++) {
      metrics.assignments.inc({ experiment, variant: "control" });
      metrics.assignments.inc({ experiment, variant: "treatment" });
    }
    void metrics.registry.metrics().then((text) => {
      response.writeHead(200, { "content-type": metrics.registry.contentType });
      response.end(text);
    });
  });
}

/** `variant/state` of each series. */
const lines = (series: readonly ChartSeries[]) => series.map((s) => `${s.variant}/${s.replicaState ?? "-"}`);

/** The last value of a series that is not a gap. */
function lastValue(series: readonly ChartSeries[], variant: string, state?: string): number | undefined {
  const found = series.find((s) => s.variant === variant && s.replicaState === state);
  const points = (found?.points ?? []).filter((point) => point[1] !== null);
  return points.at(-1)?.[1] ?? undefined;
}

describe("readCharts against a real Prometheus scraping a router", () => {
  let prometheus: RunningPrometheus | undefined;
  let router: Server | undefined;
  let startS = 0;
  beforeAll(async () => {
    router = steadyRouter(spec.name);
    const server = router;
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const { port } = server.address() as AddressInfo;
    startS = Math.floor(Date.now() / 1000);
    prometheus = await startPrometheus(
      stringify({
        global: { scrape_interval: "500ms", scrape_timeout: "500ms" },
        scrape_configs: [{ job_name: "llm-ab-router", static_configs: [{ targets: [`127.0.0.1:${port}`] }] }],
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await prometheus?.stop();
    await new Promise((done) => router?.close(done));
  });

  it("draws every chart per variant, latency per replica state, and a failure-free variant at 0 % errors", async () => {
    if (prometheus === undefined) throw new Error("Prometheus did not start");
    // Poll (no timing assumed) until two scrapes are in and every chart has a value.
    let charts: DemoCharts | undefined;
    for (let attempt = 0; attempt < 60; attempt++) {
      const now = Math.ceil(Date.now() / 1000);
      charts = await readCharts(prometheus, spec, startS, now);
      const complete =
        lastValue(charts.errorRate, "control") !== undefined &&
        lastValue(charts.split, "treatment") !== undefined &&
        lastValue(charts.ttftP95, "control", "cold") !== undefined;
      if (complete) break;
      await new Promise((done) => setTimeout(done, 500));
    }
    if (charts === undefined) throw new Error("no charts read");

    expect(lines(charts.ttftP95)).toEqual(["control/cold", "control/warm", "treatment/warm"]);
    expect(lines(charts.itlP95)).toEqual(["control/cold", "control/warm", "treatment/warm"]);
    expect(lines(charts.requestRate)).toEqual(["control/-", "treatment/-"]);
    expect(lines(charts.errorRate)).toEqual(["control/-", "treatment/-"]);
    expect(lines(charts.split)).toEqual(["control/-", "treatment/-"]);

    // Latency p95s fall in the bucket holding the observations (linear interpolation inside it).
    expect(lastValue(charts.ttftP95, "control", "warm")).toBeGreaterThan(0.27);
    expect(lastValue(charts.ttftP95, "control", "warm")).toBeLessThanOrEqual(0.3);
    expect(lastValue(charts.ttftP95, "control", "cold")).toBeGreaterThan(0.85);
    expect(lastValue(charts.ttftP95, "control", "cold")).toBeLessThanOrEqual(0.93);
    expect(lastValue(charts.itlP95, "treatment", "warm")).toBeGreaterThan(0.025);
    expect(lastValue(charts.itlP95, "treatment", "warm")).toBeLessThanOrEqual(0.03);
    expect(lastValue(charts.requestRate, "control")).toBeGreaterThan(0);
    expect(lastValue(charts.errorRate, "control")).toBe(0);
    expect(lastValue(charts.errorRate, "treatment")).toBeCloseTo(0.2, 1);
    expect(lastValue(charts.split, "control")).toBeCloseTo(0.5, 1);
    expect(lastValue(charts.split, "treatment")).toBeCloseTo(0.5, 1);
    for (const chart of Object.values(charts)) {
      for (const series of chart) {
        for (const [t] of series.points) expect(t).toBeGreaterThanOrEqual(0);
      }
    }
  });
});
