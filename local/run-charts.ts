/**
 * The report's time series, read back from the run's Prometheus at the end: what an SRE would
 * have seen on the dashboard, over the same windows the guardrails used.
 */
import { durationMs, formatDuration, timing } from "../monitoring/config.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import type { ChartSeries, DemoCharts } from "./run-result.ts";
import type { RangeSeries, RunningPrometheus } from "./supervisor/prometheus.ts";

/** PromQL of each chart for one experiment, over the local profile's guardrail window. */
export function chartQueries(
  spec: Pick<ExperimentSpec, "name" | "monitoring">,
): Record<keyof DemoCharts, string> {
  const window = timing(spec, "local").window;
  // New units arrive once per conversation, far fewer than requests: the split needs a longer window.
  const splitWindow = formatDuration(durationMs(window) * 3);
  const own = `experiment="${spec.name}"`;
  const quantile = (histogram: string) =>
    `histogram_quantile(0.95, sum by (variant, replica_state, le) (rate(${histogram}_bucket{${own}}[${window}])))`;
  const requests = `sum by (variant) (rate(llmab_requests_total{${own}}[${window}]))`;
  const failed = `sum by (variant) (rate(llmab_requests_total{${own}, code!~"2.."}[${window}]))`;
  const assigned = `sum by (variant) (increase(llmab_assignments_total{${own}}[${splitWindow}]))`;
  return {
    ttftP95: quantile("llmab_ttft_seconds"),
    itlP95: quantile("llmab_itl_seconds"),
    split: `${assigned} / ignoring (variant) group_left () sum (${assigned})`,
    requestRate: requests,
    // A variant without failures has no failed series: count it as 0, not as missing.
    errorRate: `(${failed} or 0 * ${requests}) / ${requests}`,
  };
}

/** Range-query series as chart series, `t` in seconds since `startS`, NaN as a gap. */
export function toChartSeries(series: readonly RangeSeries[], startS: number): ChartSeries[] {
  return series
    .map((s): ChartSeries => {
      const state = s.metric.replica_state;
      const points = s.values.map(([t, v]): readonly [number, number | null] => {
        const value = Number(v);
        return [Math.round((t - startS) * 10) / 10, Number.isFinite(value) ? value : null];
      });
      return {
        variant: s.metric.variant ?? "all",
        ...(state === "warm" || state === "cold" ? { replicaState: state } : {}),
        points,
      };
    })
    .sort((a, b) =>
      `${a.variant}:${a.replicaState ?? ""}`.localeCompare(`${b.variant}:${b.replicaState ?? ""}`),
    );
}

/** Every chart of the report over [startS, endS] (epoch seconds). */
export async function readCharts(
  prometheus: RunningPrometheus,
  spec: Pick<ExperimentSpec, "name" | "monitoring">,
  startS: number,
  endS: number,
): Promise<DemoCharts> {
  const step = Math.max(1, durationMs(timing(spec, "local").interval) / 1000);
  const queries = chartQueries(spec);
  const read = async (key: keyof DemoCharts) =>
    toChartSeries(await prometheus.queryRange(queries[key], startS, endS, step), startS);
  return {
    ttftP95: await read("ttftP95"),
    itlP95: await read("itlP95"),
    split: await read("split"),
    requestRate: await read("requestRate"),
    errorRate: await read("errorRate"),
  };
}
