/**
 * vLLM's own Prometheus metrics as vLLM v0.11 exposes them (`vllm/v1/metrics/loggers.py`): the
 * names, help, labels (`model_name`, `engine`) and histogram buckets, in one prom-client registry
 * per engine. The simulator and the test helpers' scripted upstream both build theirs here, and the
 * names the dashboards query come from `monitoring/dashboards/vllm-metrics.ts`, so there is one
 * list of vLLM names.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { VLLM_MODEL_LABEL, vllmMetrics } from "../../monitoring/dashboards/vllm-metrics.ts";

/** Every vLLM series name the simulator exposes: the dashboards' and the request counters. */
export const vllmMetricNames = {
  ...vllmMetrics,
  /** Counter: prompt tokens processed (prefilled or from the cache). */
  promptTokens: "vllm:prompt_tokens_total",
  /** Counter: tokens generated. */
  generationTokens: "vllm:generation_tokens_total",
  /** Counter: finished requests by `finished_reason` (stop, length, abort). */
  requestSuccess: "vllm:request_success_total",
  /** Histogram: arrival to last token. */
  e2e: "vllm:e2e_request_latency_seconds",
  /** Histogram: time spent waiting for a slot in the running batch. */
  queueTime: "vllm:request_queue_time_seconds",
} as const;

/** vLLM v0.11's histogram buckets, in seconds. */
export const vllmBuckets = {
  ttft: [
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160,
    640, 2560,
  ],
  itl: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80],
  /** Shared by e2e and queue time (vLLM's `request_latency_buckets`). */
  requestLatency: [
    0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680,
  ],
} as const;

/** vLLM's finish reasons, each with its own `vllm:request_success_total` series from the start. */
export const FINISH_REASONS = ["stop", "length", "abort"] as const;
export type FinishReason = (typeof FINISH_REASONS)[number];

/** One engine's metrics; every series carries {@link VllmMetrics.labels}. */
export interface VllmMetrics {
  readonly registry: Registry;
  /** `{ model_name, engine }` of this engine's series. */
  readonly labels: { readonly model_name: string; readonly engine: string };
  readonly running: Gauge;
  readonly waiting: Gauge;
  readonly kvCacheUsage: Gauge;
  readonly prefixCacheQueries: Counter;
  readonly prefixCacheHits: Counter;
  readonly promptTokens: Counter;
  readonly generationTokens: Counter;
  readonly requestSuccess: Counter;
  readonly ttft: Histogram;
  readonly itl: Histogram;
  readonly e2e: Histogram;
  readonly queueTime: Histogram;
}

/**
 * A fresh registry with vLLM's engine metrics for the served model `modelName` (engine "0": no
 * data parallelism). Gauges start at 0 and every finish reason's counter exists, as in vLLM.
 */
export function createVllmMetrics(modelName: string, engine = "0"): VllmMetrics {
  const registry = new Registry();
  const labels = { [VLLM_MODEL_LABEL]: modelName, engine } as { model_name: string; engine: string };
  const labelNames = [VLLM_MODEL_LABEL, "engine"];
  const registers = [registry];
  const gauge = (name: string, help: string) => new Gauge({ name, help, labelNames, registers });
  const counter = (name: string, help: string) => new Counter({ name, help, labelNames, registers });
  const histogram = (name: string, help: string, buckets: readonly number[]) =>
    new Histogram({ name, help, labelNames, buckets: [...buckets], registers });
  const metrics: VllmMetrics = {
    registry,
    labels,
    running: gauge(vllmMetricNames.running, "Number of requests in model execution batches."),
    waiting: gauge(vllmMetricNames.waiting, "Number of requests waiting to be processed."),
    kvCacheUsage: gauge(vllmMetricNames.kvCacheUsage, "KV-cache usage. 1 means 100 percent usage."),
    prefixCacheQueries: counter(
      vllmMetricNames.prefixCacheQueries,
      "Prefix cache queries, in terms of number of queried tokens.",
    ),
    prefixCacheHits: counter(
      vllmMetricNames.prefixCacheHits,
      "Prefix cache hits, in terms of number of cached tokens.",
    ),
    promptTokens: counter(vllmMetricNames.promptTokens, "Number of prefill tokens processed."),
    generationTokens: counter(vllmMetricNames.generationTokens, "Number of generation tokens processed."),
    requestSuccess: new Counter({
      name: vllmMetricNames.requestSuccess,
      help: "Count of successfully processed requests.",
      labelNames: [...labelNames, "finished_reason"],
      registers,
    }),
    ttft: histogram(vllmMetricNames.ttft, "Histogram of time to first token in seconds.", vllmBuckets.ttft),
    itl: histogram(vllmMetricNames.itl, "Histogram of inter-token latency in seconds.", vllmBuckets.itl),
    e2e: histogram(
      vllmMetricNames.e2e,
      "Histogram of e2e request latency in seconds.",
      vllmBuckets.requestLatency,
    ),
    queueTime: histogram(
      vllmMetricNames.queueTime,
      "Histogram of time spent in WAITING phase for request.",
      vllmBuckets.requestLatency,
    ),
  };
  for (const metric of [metrics.running, metrics.waiting, metrics.kvCacheUsage]) metric.set(labels, 0);
  for (const metric of [
    metrics.prefixCacheQueries,
    metrics.prefixCacheHits,
    metrics.promptTokens,
    metrics.generationTokens,
  ])
    metric.inc(labels, 0);
  for (const reason of FINISH_REASONS) metrics.requestSuccess.inc({ ...labels, finished_reason: reason }, 0);
  return metrics;
}
