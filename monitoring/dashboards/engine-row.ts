/**
 * The engines behind the variants, from vLLM's own metrics: queue depth, running batch, KV-cache
 * usage, prefix-cache hit rate and engine-side TTFT / ITL. When router latency regresses, these say
 * whether the engine was saturated (queueing, a full KV cache, cache misses) or the variant is slow.
 */
import { RowBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { latencyQuantiles } from "./latency-rows.ts";
import { HALF, QUARTER, timeseries } from "./panels.ts";
import { histogramQuantile, oneOf, RATE_INTERVAL, ratio, selector, sumRate } from "./promql.ts";
import { VLLM_MODEL_LABEL, VLLM_VERSION, vllmMetrics } from "./vllm-metrics.ts";

/** The model names the experiment's engines report: each used deployment's served name. */
export function servedModelNames(spec: ExperimentSpec): string[] {
  const used = new Set(Object.values(spec.variants).map((variant) => variant.deployment));
  const names = [...used].map((name) => {
    const deployment = spec.deployments[name];
    return deployment?.servedModelName ?? deployment?.model ?? name;
  });
  return [...new Set(names)].sort();
}

const perEngine = [VLLM_MODEL_LABEL, "instance"];
const ENGINE_LEGEND = `{{${VLLM_MODEL_LABEL}}} {{instance}}`;

/** The "Engines" row: vLLM gauges per engine, engine-side latency per served model. */
export function engineRow(spec: ExperimentSpec) {
  const models = servedModelNames(spec);
  const matchers = [oneOf(VLLM_MODEL_LABEL, models)];
  const gauge = (metric: string) => `sum by (${perEngine.join(", ")}) (${selector(metric, matchers)})`;
  const scope = `Series of vLLM ${VLLM_VERSION} engines whose ${VLLM_MODEL_LABEL} is ${models.join(" or ")}, one line per scraped engine (instance).`;
  const engineLatency = (metric: string, what: string) =>
    timeseries(
      {
        title: `Engine ${what}`,
        description: `p50 / p95 / p99 of ${what} measured inside vLLM, per served model, pooled over engines. Compare with the router's: the difference is network and proxy time.`,
        unit: "s",
        width: HALF,
      },
      latencyQuantiles.map((q) => ({
        expr: histogramQuantile(q, metric, matchers, RATE_INTERVAL, [VLLM_MODEL_LABEL]),
        legend: `{{${VLLM_MODEL_LABEL}}} p${Math.round(q * 100)}`,
      })),
    );
  return {
    row: new RowBuilder(`Engines (vLLM ${VLLM_VERSION} metrics)`),
    panels: [
      timeseries(
        {
          title: "Queue depth",
          description: `Requests waiting to be scheduled (${vllmMetrics.waiting}). A growing queue shows up as TTFT. ${scope}`,
          unit: "short",
          width: QUARTER,
        },
        [{ expr: gauge(vllmMetrics.waiting), legend: ENGINE_LEGEND }],
      ),
      timeseries(
        {
          title: "Running requests",
          description: `Requests in the running batch (${vllmMetrics.running}). ${scope}`,
          unit: "short",
          width: QUARTER,
        },
        [{ expr: gauge(vllmMetrics.running), legend: ENGINE_LEGEND }],
      ),
      timeseries(
        {
          title: "KV-cache usage",
          description: `Fraction of KV-cache blocks in use (${vllmMetrics.kvCacheUsage}); near 100 % the engine preempts requests. ${scope}`,
          unit: "percentunit",
          width: QUARTER,
        },
        [
          {
            expr: `max by (${perEngine.join(", ")}) (${selector(vllmMetrics.kvCacheUsage, matchers)})`,
            legend: ENGINE_LEGEND,
          },
        ],
      ),
      timeseries(
        {
          title: "Prefix-cache hit rate",
          description: `Prefix-cache tokens hit over tokens looked up (${vllmMetrics.prefixCacheHits} / ${vllmMetrics.prefixCacheQueries}). A longer system prompt is cheap only while it hits. ${scope}`,
          unit: "percentunit",
          width: QUARTER,
        },
        [
          {
            expr: ratio(
              sumRate(vllmMetrics.prefixCacheHits, matchers, RATE_INTERVAL, perEngine),
              sumRate(vllmMetrics.prefixCacheQueries, matchers, RATE_INTERVAL, perEngine),
            ),
            legend: ENGINE_LEGEND,
          },
        ],
      ),
      engineLatency(vllmMetrics.ttft, "time to first token"),
      engineLatency(vllmMetrics.itl, "inter-token latency"),
    ],
  };
}
