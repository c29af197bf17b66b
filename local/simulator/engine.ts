/**
 * The engine of one simulated vLLM replica: a FIFO queue in front of `maxRunning` slots, TTFT
 * from a fixed part plus prefill of the prompt tokens the prefix cache does not hold, an
 * inter-token time that grows with the batch, log-normal jitter, a fading cold start, and injected
 * failures (HTTP 500), all from the latency model (`latency-model.ts`). It writes each answer to
 * its HTTP response as tokens come due and keeps vLLM v0.11's engine metrics from what it really
 * did (times measured with the injected clock, not planned).
 *
 * Randomness (jitter, answer lengths, failures, words) is seeded by (seed, deployment, replica), so
 * two replicas of a run differ and two runs of a scenario match draw for draw.
 */
import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import normal from "@stdlib/random-base-normal";
import uniform from "@stdlib/random-base-uniform";
import type { ColdStart, DeploymentBehaviour } from "../scenario-schema.ts";
import { BatchQueue, ColdStartClock, firstTokenMs, jitterFactor, nextTokenMs } from "./latency-model.ts";
import {
  type AnswerHead,
  completeBody,
  errorBody,
  type GenerationRequest,
  streamChunk,
  usageChunk,
  usageOf,
} from "./openai-shapes.ts";
import { PrefixCache } from "./prefix-cache.ts";
import { answerToken, chatSegments } from "./text.ts";
import { createVllmMetrics, type FinishReason, type VllmMetrics } from "./vllm-metrics.ts";

/** Scenario changes: multipliers of the model's latencies and the failure rate from now on. */
export interface SimulatorEffects {
  ttftFactor?: number;
  itlFactor?: number;
  errorRate?: number;
}

/** What a replica has done so far. */
export interface EngineStats {
  /** Generation requests accepted (valid, for the served model). */
  requests: number;
  /** Of those, failed with an injected HTTP 500. */
  failed: number;
  running: number;
  waiting: number;
  /** Prompt tokens served from the prefix cache. */
  prefixHitTokens: number;
}

/** What the engine needs to know about its replica. */
export interface EngineOptions {
  /** The spec deployment this replica belongs to. */
  readonly deployment: string;
  /** Served model name: `/v1/models`, the `model` requests must name, the `model_name` label. */
  readonly model: string;
  /** Replica index, for logs and seeds only (engines are told apart by Prometheus' `instance`). */
  readonly replica: number;
  /** Latency, cold start, prefix cache and error rate (from local/scenario-schema.ts). */
  readonly behaviour: DeploymentBehaviour;
  /** Overrides `behaviour.coldStart` (replicas a scenario change adds). */
  readonly coldStart?: ColdStart;
  /** True: just started (cold); false: has been running (warm). */
  readonly startCold: boolean;
  /** Seeds the replica's draws, mixed with deployment and replica so replicas differ. */
  readonly seed: number;
  /** Monotonic clock in ms used for scheduling and measuring. */
  readonly now: () => number;
}

/** One replica's engine: takes accepted requests and answers them on their responses. */
export interface SimulatedEngine {
  readonly metrics: VllmMetrics;
  /** Queues `request`, answering on `res` when its tokens come due; a closed `res` aborts it. */
  submit(request: GenerationRequest, res: ServerResponse): void;
  setEffects(effects: SimulatorEffects): void;
  stats(): EngineStats;
  /** Refuses new requests and cuts every request in flight or waiting. */
  abortAll(): void;
}

/** KV-cache capacity per batch slot, in tokens: usage = tokens held by running requests / (slots × this). */
const KV_TOKENS_PER_SLOT = 2048;
/** Answer lengths (tokens) are drawn uniformly from this range, then cut at `max_tokens`. */
const ANSWER_TOKENS = { min: 10, max: 160 } as const;

/** A uint32 seed ≥ 1 (what stdlib's MT19937 accepts) for one random stream of one replica. */
function streamSeed(seed: number, deployment: string, replica: number, stream: string): number {
  const digest = createHash("sha256").update(`${seed}\0${deployment}\0${replica}\0${stream}`).digest();
  return digest.readUInt32BE(0) || 1;
}

/** One accepted request on its way through the engine. */
interface Job {
  readonly request: GenerationRequest;
  readonly res: ServerResponse;
  readonly arrivedMs: number;
  timer?: NodeJS.Timeout;
  started: boolean;
  done: boolean;
  kvTokens: number;
}

/** Answers `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { "content-type": "application/json", "content-length": bytes.length });
  res.end(bytes);
}

const sse = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;

/** A replica's engine, cold or warm as `options.startCold` says. */
export function createEngine(options: EngineOptions): SimulatedEngine {
  const { behaviour, model, deployment, replica, now } = options;
  const latency = behaviour.latency;
  const cold = new ColdStartClock(options.coldStart ?? behaviour.coldStart, options.startCold, now());
  const queue = new BatchQueue<Job>(latency.maxRunning);
  const cache = new PrefixCache();
  const metrics = createVllmMetrics(model);
  const labels = metrics.labels;
  const z = normal.factory(0, 1, { seed: streamSeed(options.seed, deployment, replica, "jitter") });
  const u = uniform.factory(0, 1, { seed: streamSeed(options.seed, deployment, replica, "draws") });
  const effects = { ttftFactor: 1, itlFactor: 1, errorRate: behaviour.errorRate };
  const jobs = new Set<Job>();
  const counts = { requests: 0, failed: 0, prefixHitTokens: 0, ids: 0 };
  let kvTokens = 0;
  // Set before aborting frees slots, so no waiting request is admitted on the way out.
  let closing = false;

  const refreshGauges = () => {
    metrics.running.set(labels, queue.running);
    metrics.waiting.set(labels, queue.waiting);
    metrics.kvCacheUsage.set(labels, Math.min(1, kvTokens / (latency.maxRunning * KV_TOKENS_PER_SLOT)));
  };
  const holdKv = (job: Job, tokens: number) => {
    job.kvTokens += tokens;
    kvTokens += tokens;
  };

  /** Ends a job's claim on the engine: slot or queue place, KV blocks, timers. */
  const release = (job: Job) => {
    if (job.done) return;
    job.done = true;
    clearTimeout(job.timer);
    jobs.delete(job);
    kvTokens -= job.kvTokens;
    queue.remove(job);
    cold.touch(now());
    refreshGauges();
  };

  const admit = (job: Job) => {
    if (closing) return;
    job.started = true;
    const admittedMs = now();
    metrics.queueTime.observe(labels, (admittedMs - job.arrivedMs) / 1000);
    refreshGauges();
    if (u() < effects.errorRate) {
      counts.failed++;
      const failure = errorBody(
        500,
        "InternalServerError",
        "Simulated engine failure (scenario error rate).",
      );
      sendJson(job.res, failure.status, failure.body);
      release(job);
      return;
    }
    const { request } = job;
    const coldFactor = cold.begin(admittedMs);
    const promptTokens = request.segments.reduce((sum, segment) => sum + segment.tokens, 0);
    const cached = behaviour.prefixCache.enabled ? cache.lookup(request.segments).hit : 0;
    if (behaviour.prefixCache.enabled) {
      metrics.prefixCacheQueries.inc(labels, promptTokens);
      metrics.prefixCacheHits.inc(labels, cached);
      counts.prefixHitTokens += cached;
    }
    metrics.promptTokens.inc(labels, promptTokens);
    holdKv(job, promptTokens);
    refreshGauges();
    const drawn = ANSWER_TOKENS.min + Math.floor(u() * (ANSWER_TOKENS.max - ANSWER_TOKENS.min + 1));
    const length = request.maxTokens !== undefined && request.maxTokens <= drawn;
    const answerTokens = length ? (request.maxTokens as number) : drawn;
    const finishReason: FinishReason = length ? "length" : "stop";
    const textSeed = Math.floor(u() * 2 ** 31);
    // Effects are read once: a change applies to requests admitted after it.
    const factors = { cold: coldFactor, ttft: effects.ttftFactor, itl: effects.itlFactor };
    const head: AnswerHead = {
      id: `${request.chat ? "chatcmpl" : "cmpl"}-${createHash("sha1")
        .update(`${options.seed}:${deployment}:${replica}:${counts.ids++}`)
        .digest("hex")
        .slice(0, 32)}`,
      created: Math.floor(Date.now() / 1000),
      model,
      chat: request.chat,
    };
    const usage = usageOf(promptTokens, answerTokens, cached);
    if (request.stream) {
      job.res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
      });
      job.res.flushHeaders();
    }
    const tokens: string[] = [];
    let lastTokenMs = admittedMs;
    let dueMs =
      admittedMs + firstTokenMs(latency, promptTokens - cached, jitterFactor(latency.jitter, z()), factors);

    const finish = () => {
      const endMs = now();
      metrics.e2e.observe(labels, (endMs - job.arrivedMs) / 1000);
      metrics.requestSuccess.inc({ ...labels, finished_reason: finishReason });
      if (request.chat && behaviour.prefixCache.enabled && request.messages !== undefined) {
        // The answer's KV stays cached too: the next turn repeats it as an assistant message.
        cache.remember(chatSegments([...request.messages, { role: "assistant", content: tokens.join("") }]));
      }
      if (request.stream) {
        job.res.write(sse(streamChunk(head, { finish: finishReason })));
        if (request.includeUsage) job.res.write(sse(usageChunk(head, usage)));
        job.res.end("data: [DONE]\n\n");
      } else {
        sendJson(job.res, 200, completeBody(head, tokens.join(""), finishReason, usage));
      }
      release(job);
    };

    const emit = () => {
      if (job.done) return;
      const emittedMs = now();
      const token = answerToken(textSeed, tokens.length);
      if (tokens.length === 0) {
        metrics.ttft.observe(labels, (emittedMs - job.arrivedMs) / 1000);
        if (request.stream && request.chat) job.res.write(sse(streamChunk(head, { role: true })));
      } else {
        metrics.itl.observe(labels, (emittedMs - lastTokenMs) / 1000);
      }
      lastTokenMs = emittedMs;
      tokens.push(token);
      metrics.generationTokens.inc(labels);
      holdKv(job, 1);
      if (request.stream) job.res.write(sse(streamChunk(head, { token })));
      if (tokens.length >= answerTokens) {
        finish();
        return;
      }
      // Scheduled against the absolute due time, so timer lateness does not pile up over a stream.
      dueMs += nextTokenMs(latency, queue.running, jitterFactor(latency.jitter, z()), factors);
      job.timer = setTimeout(emit, Math.max(0, dueMs - now()));
    };
    job.timer = setTimeout(emit, Math.max(0, dueMs - now()));
  };

  return {
    metrics,
    submit(request, res) {
      if (closing || res.destroyed) {
        res.destroy();
        return;
      }
      counts.requests++;
      const job: Job = { request, res, arrivedMs: now(), started: false, done: false, kvTokens: 0 };
      jobs.add(job);
      // A client that goes away frees its slot (or its place in the queue), as vLLM aborts it.
      res.on("close", () => {
        if (job.done) return;
        if (job.started) metrics.requestSuccess.inc({ ...labels, finished_reason: "abort" });
        release(job);
      });
      queue.enqueue(job, admit);
      refreshGauges();
    },
    setEffects(next) {
      if (next.ttftFactor !== undefined) effects.ttftFactor = next.ttftFactor;
      if (next.itlFactor !== undefined) effects.itlFactor = next.itlFactor;
      if (next.errorRate !== undefined) effects.errorRate = next.errorRate;
    },
    stats: () => ({
      requests: counts.requests,
      failed: counts.failed,
      running: queue.running,
      waiting: queue.waiting,
      prefixHitTokens: counts.prefixHitTokens,
    }),
    abortAll() {
      closing = true;
      for (const job of [...jobs]) {
        release(job);
        job.res.destroy();
      }
    },
  };
}
