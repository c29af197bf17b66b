/**
 * A demo scenario (`examples/scenarios/*.yaml`): which experiment spec runs, how the simulated
 * vLLM replicas of each deployment behave and change during the run, what traffic the simulated
 * application sends, and how its users' outcomes differ per variant. Everything a run does comes
 * from this file and a seed, so two runs of a scenario tell the same story.
 *
 * Times inside a run (`at`) are either a share of the run (`"40%"`), so `--duration` stretches the
 * whole story, or an offset (`"30s"`).
 */
import { z } from "zod";
import { between, deploymentName, duration, metricName, patterned, variantName } from "../spec/primitives.ts";

/** A moment in the run: `"40%"` of the duration, or a duration from the start such as `"30s"`. */
export const runTime = z.union(
  [patterned(/^(100(\.0+)?|\d{1,2}(\.\d+)?)%$/, 'a share of the run such as "40%"'), duration],
  {
    error: (issue) =>
      `must be a share of the run such as "40%" or a duration such as "30s", got ${JSON.stringify(issue.input)}`,
  },
);

/** An inclusive range drawn uniformly per item. */
function range(what: string, min: number, defaults: { min: number; max: number }) {
  return z
    .strictObject({
      min: z.number().min(min).describe(`Smallest ${what}.`),
      max: z.number().min(min).describe(`Largest ${what}.`),
    })
    .refine((r) => r.min <= r.max, { error: "min must not exceed max" })
    .default(defaults)
    .describe(`${what}, drawn uniformly per item. Default ${defaults.min}–${defaults.max}.`);
}

/** How fast a healthy, warm replica answers (the simulator's latency model). */
export const latencySchema = z
  .strictObject({
    ttftMs: between(0, 60_000)
      .default(120)
      .describe("Fixed part of the time to first token (scheduling, a short prefill), ms. Default 120."),
    prefillMsPerToken: between(0, 100)
      .default(0.25)
      .describe("Prefill time per prompt token not served from the prefix cache, ms. Default 0.25."),
    itlMs: between(0, 10_000)
      .default(20)
      .describe("Mean time between output tokens while decoding, ms. Default 20."),
    jitter: between(0, 2)
      .default(0.2)
      .describe("Log-normal spread (σ of the log) applied to each latency draw. Default 0.2."),
    maxRunning: z
      .int()
      .min(1)
      .default(64)
      .describe(
        "Requests a replica decodes at once (vLLM's max_num_seqs; a GPU batches dozens); later ones wait in the queue. Default 64.",
      ),
    decodeSlowdownPerRunning: between(0, 1)
      .default(0.005)
      .describe("Each running request slows every decode step by this share (batching cost). Default 0.005."),
  })
  .prefault({})
  .describe("Latency of a warm replica.");

/** A freshly started (or long idle) replica: empty caches, slower first answers. */
export const coldStartSchema = z
  .strictObject({
    factor: between(1, 100)
      .default(3)
      .describe("Latency multiplier of the first request after start or idle, fading to 1. Default 3."),
    requests: z.int().min(0).default(15).describe("Requests over which the slowdown fades out. Default 15."),
    seconds: between(0, 3600)
      .default(6)
      .describe("Seconds after start over which the slowdown fades out (whichever lasts longer). Default 6."),
    idleSeconds: between(1, 86_400)
      .default(120)
      .describe("Seconds without a request after which the replica is cold again. Default 120."),
  })
  .prefault({})
  .describe("Cold-start behaviour of a replica.");

/** Something that happens to a deployment at a moment of the run. */
export const changeSchema = z
  .strictObject({
    at: runTime.describe('When: "40%" of the run, or "30s" from the start.'),
    ttftFactor: between(0, 100, { exclusiveMin: true })
      .optional()
      .describe("From then on, time to first token of every replica is multiplied by this."),
    itlFactor: between(0, 100, { exclusiveMin: true })
      .optional()
      .describe("From then on, the time between tokens is multiplied by this."),
    errorRate: between(0, 1).optional().describe("From then on, this share of requests fails with HTTP 500."),
    addReplicas: z
      .int()
      .min(1)
      .optional()
      .describe("Start this many new replicas (cold), as an autoscaler would, and add them to the router."),
    coldStart: coldStartSchema
      .optional()
      .describe("Cold-start behaviour of the replicas this change adds (default: the deployment's)."),
    note: z.string().optional().describe("What this change stands for, shown in the report."),
  })
  .refine(
    (c) =>
      c.ttftFactor !== undefined ||
      c.itlFactor !== undefined ||
      c.errorRate !== undefined ||
      c.addReplicas !== undefined,
    { error: "a change must set at least one of ttftFactor, itlFactor, errorRate, addReplicas" },
  );

/** How the simulated replicas of one spec deployment behave. */
export const deploymentBehaviourSchema = z
  .strictObject({
    replicas: z.int().min(1).max(8).default(2).describe("Replicas running from the start. Default 2."),
    latency: latencySchema,
    coldStart: coldStartSchema,
    prefixCache: z
      .strictObject({
        enabled: z
          .boolean()
          .default(true)
          .describe("Reuse the prefill of a prompt prefix seen before. Default true."),
      })
      .prefault({})
      .describe(
        "Prefix caching: a conversation's next turn only prefills its new tokens on the same replica.",
      ),
    errorRate: between(0, 1)
      .default(0)
      .describe("Share of requests failing with HTTP 500 from the start. Default 0."),
    changes: z
      .array(changeSchema)
      .default(() => [])
      .describe("What happens to this deployment during the run, in time order."),
  })
  .prefault({});

/** The distribution of one outcome a variant's users report. */
export const outcomeDrawSchema = z.union(
  [
    z.strictObject({
      probability: between(0, 1).describe("Binary outcome: 1 with this probability."),
      ifError: z
        .union([z.literal(0), z.literal(1)])
        .optional()
        .describe("Value when the conversation saw a failed answer."),
      reportShare: between(0, 1)
        .default(1)
        .describe("Share of conversations whose report reaches the router (the rest are lost). Default 1."),
    }),
    z.strictObject({
      mean: z.number().describe("Continuous outcome: normal with this mean…"),
      sd: z.number().min(0).describe("…and this standard deviation…"),
      min: z.number().optional().describe("…clipped below at this value…"),
      max: z.number().optional().describe("…and above at this one."),
      round: z.boolean().default(false).describe("Round to a whole number (a 1–5 rating). Default false."),
      reportShare: between(0, 1)
        .default(1)
        .describe("Share of conversations that report it (a survey). Default 1."),
    }),
  ],
  { error: "must be { probability } for a binary outcome or { mean, sd } for a continuous one" },
);

/** The simulated application: users having conversations with the assistant. */
export const trafficSchema = z
  .strictObject({
    conversationsPerSecond: between(0.1, 200)
      .default(6)
      .describe("New conversations started per second (Poisson arrivals). Default 6."),
    users: z.int().min(1).default(1000).describe("Users that conversations are drawn from. Default 1000."),
    turns: range("turns per conversation", 1, { min: 1, max: 4 }),
    thinkSeconds: range("seconds a user waits before the next turn", 0, { min: 0.3, max: 1.5 }),
    promptTokens: range("tokens in a user message", 1, { min: 20, max: 120 }),
    maxTokens: range("output tokens asked for per answer (max_tokens)", 1, { min: 20, max: 80 }),
    streamShare: between(0, 1).default(0.8).describe("Share of requests that stream. Default 0.8."),
  })
  .prefault({});

export const scenarioSchema = z.strictObject({
  name: patterned(/^[a-z0-9][a-z0-9-]{0,62}$/, "lowercase letters, digits and dashes"),
  title: z.string().min(1).describe("One line, shown at the top of the report."),
  story: z.string().min(1).describe("What happens and what llm-ab should do about it."),
  spec: z.string().min(1).describe("The experiment spec, relative to this file."),
  duration: duration.default("2m").describe("Length of the run. Default 2m."),
  seed: z.int().min(0).default(1).describe("Seeds traffic, outcomes and latency draws. Default 1."),
  traffic: trafficSchema,
  deployments: z
    .record(deploymentName, deploymentBehaviourSchema)
    .default(() => ({}))
    .describe("Behaviour per spec deployment; deployments not named here get the defaults."),
  outcomes: z
    .record(variantName, z.record(metricName, outcomeDrawSchema))
    .describe("Per variant: each outcome metric's distribution."),
});

export type Scenario = z.output<typeof scenarioSchema>;
export type DeploymentBehaviour = z.output<typeof deploymentBehaviourSchema>;
export type LatencyModel = z.output<typeof latencySchema>;
export type ColdStart = z.output<typeof coldStartSchema>;
export type DeploymentChange = z.output<typeof changeSchema>;
export type OutcomeDraw = z.output<typeof outcomeDrawSchema>;
export type TrafficModel = z.output<typeof trafficSchema>;

/** Seconds from the start of a run of `durationSeconds` at which `at` falls. */
export function secondsInto(at: string, durationSeconds: number): number {
  const share = /^(\d+(?:\.\d+)?)%$/.exec(at);
  if (share !== null) return (Number(share[1]) / 100) * durationSeconds;
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(at);
  if (match === null) throw new RangeError(`not a run time: "${at}"`);
  const scale = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as "ms" | "s" | "m" | "h" | "d"];
  return Number(match[1]) * scale;
}
