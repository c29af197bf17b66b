/**
 * vLLM's own engine metrics, by the names of the pinned release (v0.11), kept by the scripted
 * upstream from what it really did: requests running, KV-cache usage, prefix-cache lookups and
 * hits for repeated prompts, and the first-token and inter-token times it actually produced. The
 * `local/` simulator will expose the same names; until then this is what engine panels and rules
 * are tested against.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** vLLM's own buckets for token latencies (v0.11 `vllm/v1/metrics/loggers.py`), in seconds. */
const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5];
/** KV-cache blocks a scripted replica pretends to have, one per running request. */
const KV_BLOCKS = 16;

export interface EngineRequest {
  readonly body: Record<string, unknown>;
  readonly arrivedAtMs: number;
  readonly tokenSentAtMs: readonly number[];
}

export class EngineMetrics {
  readonly registry = new Registry();
  private readonly labels: { model_name: string; engine: string };
  private readonly running: Gauge;
  private readonly waiting: Gauge;
  private readonly kvCache: Gauge;
  private readonly prefixQueries: Counter;
  private readonly prefixHits: Counter;
  private readonly ttft: Histogram;
  private readonly itl: Histogram;
  private readonly seenPrompts = new Set<string>();
  private inFlight = 0;

  constructor(modelName: string) {
    this.labels = { model_name: modelName, engine: "0" };
    const labelNames = ["model_name", "engine"] as const;
    const registers = [this.registry];
    this.running = new Gauge({
      name: "vllm:num_requests_running",
      help: "Requests in the running batch.",
      labelNames,
      registers,
    });
    this.waiting = new Gauge({
      name: "vllm:num_requests_waiting",
      help: "Requests waiting to be scheduled.",
      labelNames,
      registers,
    });
    this.kvCache = new Gauge({
      name: "vllm:kv_cache_usage_perc",
      help: "KV-cache usage, 0-1.",
      labelNames,
      registers,
    });
    this.prefixQueries = new Counter({
      name: "vllm:prefix_cache_queries_total",
      help: "Prefix-cache tokens queried.",
      labelNames,
      registers,
    });
    this.prefixHits = new Counter({
      name: "vllm:prefix_cache_hits_total",
      help: "Prefix-cache tokens hit.",
      labelNames,
      registers,
    });
    this.ttft = new Histogram({
      name: "vllm:time_to_first_token_seconds",
      help: "Time to first token.",
      labelNames,
      buckets: TTFT_BUCKETS,
      registers,
    });
    this.itl = new Histogram({
      name: "vllm:inter_token_latency_seconds",
      help: "Inter-token latency.",
      labelNames,
      buckets: ITL_BUCKETS,
      registers,
    });
    this.waiting.set(this.labels, 0);
    this.update();
  }

  /** A request was admitted: it runs at once (the scripted engine never queues). */
  started(request: EngineRequest): void {
    this.inFlight++;
    this.update();
    const prompt = JSON.stringify(request.body.messages ?? request.body.prompt ?? "");
    const tokens = Math.max(1, Math.round(prompt.length / 4));
    this.prefixQueries.inc(this.labels, tokens);
    if (this.seenPrompts.has(prompt)) this.prefixHits.inc(this.labels, tokens);
    this.seenPrompts.add(prompt);
  }

  /** A request ended (finished or cut): record the token times it really produced. */
  ended(request: EngineRequest): void {
    this.inFlight--;
    this.update();
    const [first, ...rest] = request.tokenSentAtMs;
    if (first === undefined) return;
    this.ttft.observe(this.labels, (first - request.arrivedAtMs) / 1000);
    let previous = first;
    for (const at of rest) {
      this.itl.observe(this.labels, (at - previous) / 1000);
      previous = at;
    }
  }

  private update(): void {
    this.running.set(this.labels, this.inFlight);
    this.kvCache.set(this.labels, Math.min(1, this.inFlight / KV_BLOCKS));
  }
}
