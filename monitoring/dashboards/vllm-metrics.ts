/**
 * vLLM's own Prometheus metrics, by the names of the pinned version. vLLM renames metrics between
 * releases (v0.11 has `vllm:kv_cache_usage_perc` where older ones had `vllm:gpu_cache_usage_perc`,
 * and `vllm:inter_token_latency_seconds` beside `vllm:time_per_output_token_seconds`), so the
 * engine panels name the version their metric names come from.
 */

/** The vLLM release whose metric names the engine panels use (the examples pin vllm/vllm-openai:v0.11.0). */
export const VLLM_VERSION = "v0.11";

/**
 * Every vLLM v0.11 series carries `model_name` (the served model name, the first `--served-model-name`)
 * and `engine` (the engine index with data parallelism).
 */
export const VLLM_MODEL_LABEL = "model_name";

export const vllmMetrics = {
  /** Gauge: requests queued, waiting to be scheduled. */
  waiting: "vllm:num_requests_waiting",
  /** Gauge: requests in the running batch. */
  running: "vllm:num_requests_running",
  /** Gauge: fraction of KV-cache blocks in use, 0–1. */
  kvCacheUsage: "vllm:kv_cache_usage_perc",
  /** Counter: prefix-cache tokens that hit. */
  prefixCacheHits: "vllm:prefix_cache_hits_total",
  /** Counter: prefix-cache tokens looked up. */
  prefixCacheQueries: "vllm:prefix_cache_queries_total",
  /** Histogram: time to first token, measured inside the engine. */
  ttft: "vllm:time_to_first_token_seconds",
  /** Histogram: gaps between generated tokens, measured inside the engine. */
  itl: "vllm:inter_token_latency_seconds",
} as const;
