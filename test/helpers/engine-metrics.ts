/**
 * vLLM's own engine metrics, by the names of the pinned release (v0.11), kept by the scripted
 * upstream from what it really did: requests running, KV-cache usage, prefix-cache lookups and
 * hits for repeated prompts, and the first-token and inter-token times it actually produced. The
 * series (names, labels, buckets) are the `local/` simulator's (local/simulator/vllm-metrics.ts),
 * so engine panels and rules are tested against the same definitions the demo serves.
 */
import type { Registry } from "prom-client";
import { createVllmMetrics, type VllmMetrics } from "../../local/simulator/vllm-metrics.ts";

/** KV-cache blocks a scripted replica pretends to have, one per running request. */
const KV_BLOCKS = 16;

export interface EngineRequest {
  readonly body: Record<string, unknown>;
  readonly arrivedAtMs: number;
  readonly tokenSentAtMs: readonly number[];
}

export class EngineMetrics {
  private readonly metrics: VllmMetrics;
  private readonly seenPrompts = new Set<string>();
  private inFlight = 0;

  constructor(modelName: string) {
    this.metrics = createVllmMetrics(modelName);
  }

  get registry(): Registry {
    return this.metrics.registry;
  }

  /** A request was admitted: it runs at once (the scripted engine never queues). */
  started(request: EngineRequest): void {
    this.inFlight++;
    this.update();
    const prompt = JSON.stringify(request.body.messages ?? request.body.prompt ?? "");
    const tokens = Math.max(1, Math.round(prompt.length / 4));
    const { labels } = this.metrics;
    this.metrics.prefixCacheQueries.inc(labels, tokens);
    if (this.seenPrompts.has(prompt)) this.metrics.prefixCacheHits.inc(labels, tokens);
    this.seenPrompts.add(prompt);
  }

  /** A request ended (finished or cut): record the token times it really produced. */
  ended(request: EngineRequest): void {
    this.inFlight--;
    this.update();
    const [first, ...rest] = request.tokenSentAtMs;
    if (first === undefined) return;
    const { labels } = this.metrics;
    this.metrics.ttft.observe(labels, (first - request.arrivedAtMs) / 1000);
    let previous = first;
    for (const at of rest) {
      this.metrics.itl.observe(labels, (at - previous) / 1000);
      previous = at;
    }
  }

  private update(): void {
    const { labels } = this.metrics;
    this.metrics.running.set(labels, this.inFlight);
    this.metrics.kvCacheUsage.set(labels, Math.min(1, this.inFlight / KV_BLOCKS));
  }
}
