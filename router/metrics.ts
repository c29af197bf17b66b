/**
 * The router's Prometheus metrics (names from DESIGN.md, "Metric names"), in a `Registry` of their
 * own per router instance so two routers in one process (tests) never share counts.
 *
 * Base units: seconds, tokens, USD. Every series carries `experiment`, and `variant` where the
 * value belongs to one arm; `llmab_experiment_state` is per experiment only (the state is shared by
 * all arms), and the two store/unit counters the assigner reports are per experiment too.
 */
import { Counter, Gauge, Registry } from "prom-client";
import { LatencyHistogram } from "./latency-histogram.ts";
import type { TokenUsage } from "./sse.ts";
import type { RequestTiming } from "./timing.ts";
import type { ReplicaState } from "./warmth.ts";

/** Runtime states of an experiment (DESIGN.md, "Guardrail actions"). */
export const experimentRunStates = ["active", "paused", "rolled_back"] as const;
export type ExperimentRunState = (typeof experimentRunStates)[number];

// Bucket bounds in seconds. `histogram_quantile` interpolates linearly inside a bucket, so a p95
// is only as precise as the bucket it falls in: bounds are dense where guardrails are set and
// sparse in the tails, and reach far past prom-client's default 10 s ceiling.

/**
 * TTFT runs from ~10 ms (warm prefix-cache hit, small model) to minutes (a cold replica queueing
 * behind long prompts). From 0.1 s to 2.5 s, where TTFT guardrails sit, neighbouring bounds are at
 * most 12.5 % apart. Relative guardrails compare two interpolated p95s, and inside a wide bucket
 * linear interpolation stretches a small shift of the tail: with bounds 0.2 / 0.3, true p95s of
 * 0.201 s and 0.209 s were estimated as 0.197 s and 0.25 s (+27 %), tripping a 25 % margin. With
 * bounds ~10 % apart the same estimates differ by a few percent.
 */
export const TTFT_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.11, 0.12, 0.13, 0.14, 0.15, 0.165, 0.18, 0.2, 0.22, 0.24, 0.27, 0.3, 0.33,
  0.36, 0.4, 0.44, 0.48, 0.53, 0.58, 0.64, 0.7, 0.77, 0.85, 0.93, 1, 1.1, 1.2, 1.35, 1.5, 1.65, 1.8, 2, 2.2,
  2.4, 2.5, 3, 4, 5, 7.5, 10, 15, 20, 30, 60, 120,
] as const;

/**
 * ITL and TPOT: one decode step is ~5–50 ms on a GPU (1 ms on tiny models or simulators); gaps of
 * 0.1 s and more are stalls (preemption, another request's prefill batched in), so the bounds are
 * dense below 0.1 s and few above.
 */
export const TOKEN_GAP_BUCKETS = [
  0.001, 0.0025, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.0175, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.075, 0.1,
  0.15, 0.2, 0.3, 0.5, 1, 2.5,
] as const;

/** End-to-end: a short answer takes well under a second, a long generation several minutes. */
export const E2E_BUCKETS = [
  0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600,
] as const;

/** Labels of one proxied exchange. */
export interface ExchangeLabels {
  readonly experiment: string;
  readonly variant: string;
  /** The replica's state when the request started; undefined when no replica was reached. */
  readonly replicaState: ReplicaState | undefined;
}

/** What one proxied exchange produced. */
export interface ExchangeObservation {
  /** HTTP status the client got (499 when the client went away first). */
  readonly status: number;
  readonly timing?: RequestTiming;
  readonly usage?: TokenUsage;
  readonly costUsd?: number;
}

/** The counters the assigner reports into (R1's `RouterCounters`), bound to one experiment. */
export interface ExperimentCounters {
  storeFailure(kind: string): void;
  unitMissing(): void;
  assignment(variant: string): void;
}

const VARIANT = ["experiment", "variant"] as const;
const LATENCY = ["experiment", "variant", "replica_state"] as const;

/** All router metrics in one registry. */
export class RouterMetrics {
  /** The registry to expose on the admin port's `/metrics`. */
  readonly registry: Registry;
  readonly requests: Counter<"experiment" | "variant" | "code">;
  readonly assignments: Counter<"experiment" | "variant">;
  readonly ttft: LatencyHistogram<(typeof LATENCY)[number]>;
  readonly tpot: LatencyHistogram<(typeof LATENCY)[number]>;
  readonly itl: LatencyHistogram<(typeof LATENCY)[number]>;
  readonly e2e: LatencyHistogram<(typeof LATENCY)[number]>;
  readonly tokens: Counter<"experiment" | "variant" | "kind">;
  readonly cost: Counter<"experiment" | "variant">;
  readonly outcomeObservations: Counter<"experiment" | "variant" | "metric">;
  readonly outcomeSum: Gauge<"experiment" | "variant" | "metric">;
  readonly outcomeSumOfSquares: Counter<"experiment" | "variant" | "metric">;
  readonly experimentState: Gauge<"experiment" | "state">;
  readonly treatmentFraction: Gauge<"experiment" | "variant">;
  readonly unitMissing: Counter<"experiment">;
  readonly storeFailures: Counter<"experiment" | "kind">;

  /** @param registry where the metrics live; default a new one, never prom-client's global. */
  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.requests = new Counter({
      name: "llmab_requests_total",
      help: "Proxied requests by the HTTP status the client got (499: the client went away first).",
      labelNames: [...VARIANT, "code"] as const,
      registers,
    });
    this.assignments = new Counter({
      name: "llmab_assignments_total",
      help: "Units assigned to a variant for the first time (new entries in the assignment store).",
      labelNames: VARIANT,
      registers,
    });
    const latency = (name: string, help: string, buckets: readonly number[]) =>
      new LatencyHistogram({ name, help, labelNames: LATENCY, buckets, registers });
    this.ttft = latency(
      "llmab_ttft_seconds",
      "Time to first token measured in the router, by replica warm-up state.",
      TTFT_BUCKETS,
    );
    this.tpot = latency(
      "llmab_tpot_seconds",
      "Time per output token after the first: (e2e - ttft) / (output tokens - 1).",
      TOKEN_GAP_BUCKETS,
    );
    this.itl = latency(
      "llmab_itl_seconds",
      "Every gap between consecutive token arrivals.",
      TOKEN_GAP_BUCKETS,
    );
    this.e2e = latency("llmab_e2e_seconds", "Request start to the last byte of the response.", E2E_BUCKETS);
    this.tokens = new Counter({
      name: "llmab_tokens_total",
      help: "Tokens from the engine's usage report; kind is input (prompt) or output (completion).",
      labelNames: [...VARIANT, "kind"] as const,
      registers,
    });
    this.cost = new Counter({
      name: "llmab_cost_usd_total",
      help: "Token cost in USD at the deployment's price per million tokens.",
      labelNames: VARIANT,
      registers,
    });
    this.outcomeObservations = new Counter({
      name: "llmab_outcome_observations_total",
      help: "Outcome events received on POST /v1/outcomes.",
      labelNames: [...VARIANT, "metric"] as const,
      registers,
    });
    // A gauge because outcome values may be negative (a counter cannot go down); for non-negative
    // outcomes it only grows and rate()/increase() read it like a counter.
    this.outcomeSum = new Gauge({
      name: "llmab_outcome_sum",
      help: "Sum of outcome values, for means in recording rules.",
      labelNames: [...VARIANT, "metric"] as const,
      registers,
    });
    this.outcomeSumOfSquares = new Counter({
      name: "llmab_outcome_sum_of_squares",
      help: "Sum of squared outcome values, for variances in recording rules.",
      labelNames: [...VARIANT, "metric"] as const,
      registers,
    });
    this.experimentState = new Gauge({
      name: "llmab_experiment_state",
      help: "1 for the experiment's current runtime state (active, paused, rolled_back), 0 for the others.",
      labelNames: ["experiment", "state"] as const,
      registers,
    });
    this.treatmentFraction = new Gauge({
      name: "llmab_treatment_fraction",
      help: "Share of new units each treatment variant receives now (0 while paused or rolled back).",
      labelNames: VARIANT,
      registers,
    });
    this.unitMissing = new Counter({
      name: "llmab_unit_missing_total",
      help: "Requests without a unit id: served by control, not counted as exposures.",
      labelNames: ["experiment"] as const,
      registers,
    });
    this.storeFailures = new Counter({
      name: "llmab_store_failures_total",
      help: "Assignment-store operations that failed and fell back to the hash and local cache.",
      labelNames: ["experiment", "kind"] as const,
      registers,
    });
  }

  /**
   * Records one proxied exchange: its status always; latencies only for 2xx answers (an error's
   * latency measures the failure, not the variant); tokens and cost when usage is known.
   */
  observeExchange(labels: ExchangeLabels, observation: ExchangeObservation): void {
    const { experiment, variant, replicaState } = labels;
    this.requests.inc({ experiment, variant, code: String(observation.status) });
    const { timing, usage, costUsd } = observation;
    if (
      timing !== undefined &&
      replicaState !== undefined &&
      observation.status >= 200 &&
      observation.status < 300
    ) {
      if (timing.ttft !== undefined) this.ttft.series(experiment, variant, replicaState).observe(timing.ttft);
      if (timing.tpot !== undefined) this.tpot.series(experiment, variant, replicaState).observe(timing.tpot);
      this.e2e.series(experiment, variant, replicaState).observe(timing.e2e);
      if (timing.itl.length > 0) {
        const itl = this.itl.series(experiment, variant, replicaState);
        for (const gap of timing.itl) itl.observe(gap);
      }
    }
    if (usage !== undefined) {
      this.tokens.inc({ experiment, variant, kind: "input" }, usage.promptTokens);
      this.tokens.inc({ experiment, variant, kind: "output" }, usage.completionTokens);
    }
    if (costUsd !== undefined) this.cost.inc({ experiment, variant }, costUsd);
  }

  /** Records one outcome event (a finite number) for a metric of a variant. */
  observeOutcome(experiment: string, variant: string, metric: string, value: number): void {
    if (!Number.isFinite(value))
      throw new RangeError(`outcome ${metric} must be a finite number, got ${value}`);
    const labels = { experiment, variant, metric };
    this.outcomeObservations.inc(labels);
    this.outcomeSum.inc(labels, value);
    this.outcomeSumOfSquares.inc(labels, value * value);
  }

  /** Sets `llmab_experiment_state` to 1 for `state` and 0 for the other states. */
  setExperimentState(experiment: string, state: ExperimentRunState): void {
    for (const each of experimentRunStates)
      this.experimentState.set({ experiment, state: each }, each === state ? 1 : 0);
  }

  /** Sets `llmab_treatment_fraction` for each treatment variant (fractions in [0, 1]). */
  setTreatmentFractions(experiment: string, fractions: Readonly<Record<string, number>>): void {
    for (const [variant, fraction] of Object.entries(fractions)) {
      this.treatmentFraction.set({ experiment, variant }, fraction);
    }
  }

  /** The counters the assigner reports into, bound to one experiment. */
  countersFor(experiment: string): ExperimentCounters {
    return {
      storeFailure: (kind) => this.storeFailures.inc({ experiment, kind }),
      unitMissing: () => this.unitMissing.inc({ experiment }),
      assignment: (variant) => this.assignments.inc({ experiment, variant }),
    };
  }

  /** The exposition text for `/metrics`. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type to serve {@link metrics} with. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
