/**
 * `monitoring` (how often guardrails are evaluated, and over what window) and `router` (where unit
 * ids come from and where assignments are stored).
 */
import { z } from "zod";
import { describeValue } from "./issue-messages.ts";
import { between, duration, httpUrl, intAtLeast, patterned, text } from "./primitives.ts";

export const monitoringSchema = z
  .strictObject({
    evaluationInterval: duration
      .default("1m")
      .describe("How often Prometheus evaluates the guardrail rules (rule group `interval`). Default 1m."),
    window: duration
      .default("5m")
      .describe(
        "Range each guardrail evaluation looks back over (`rate(...[window])`); ≥ evaluationInterval. Default 5m.",
      ),
    runbookUrl: httpUrl
      .optional()
      .describe("Runbook linked from every alert (`runbook_url`). Absent: alerts carry no runbook link."),
    local: z
      .strictObject({
        evaluationInterval: duration
          .default("2s")
          .describe("Rule evaluation interval in the embedded stack. Default 2s."),
        window: duration.default("10s").describe("Guardrail window in the embedded stack. Default 10s."),
      })
      .prefault({})
      .describe("Faster timings for the one-machine stack (`local/`), where a run lasts minutes, not days."),
  })
  .describe("Guardrail evaluation timing.");

/** RFC 9110 token characters: what an HTTP header name may contain. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const unitSourceSchema = z.union(
  [
    z.strictObject({
      header: patterned(HEADER_NAME, "an HTTP header name")
        .transform((name) => name.toLowerCase())
        .describe("Request header holding the unit id (matched case-insensitively, stored lowercase)."),
    }),
    z.strictObject({
      body: z.literal("user").describe("The `user` field of the OpenAI-compatible request body."),
    }),
  ],
  {
    error: (issue) =>
      `must be { header: <header name> } or { body: "user" }, got ${describeValue(issue.input)}`,
  },
);

/** Where the router looks for the unit id when the spec does not say, first match wins. */
export const defaultUnitSources = (): z.output<typeof unitSourceSchema>[] => [
  { header: "x-llm-ab-unit" },
  { header: "x-llm-ab-conversation" },
  { body: "user" },
];

export const assignmentStores = ["memory", "redis"] as const;

export const routerSchema = z
  .strictObject({
    unitSources: z
      .array(unitSourceSchema)
      .min(1)
      .default(defaultUnitSources)
      .describe(
        "Where the unit id is read from, first match wins. Default: header x-llm-ab-unit, then header x-llm-ab-conversation, then body user.",
      ),
    store: z
      .enum(assignmentStores)
      .default("memory")
      .describe(
        "Where first assignments are kept: `memory` (one router process) or `redis` (shared). Default memory.",
      ),
    redisUrl: z
      .url({
        protocol: /^rediss?$/,
        hostname: /./, // `redis:x` parses as a URL with no host
        error: (issue) => `must be a redis:// or rediss:// URL, got ${describeValue(issue.input)}`,
      })
      .optional()
      .describe("Redis to store assignments in; required with store redis, not allowed otherwise."),
    maxStoredUnits: intAtLeast(1)
      .default(1_000_000)
      .describe("Most unit assignments the memory store keeps (oldest evicted first). Default 1,000,000."),
    shadowLogPath: text
      .optional()
      .describe("File the router appends mirrored (shadow) responses to, as JSON lines. Absent: not logged."),
    answerSamplePercent: between(0, 100)
      .default(0)
      .describe(
        "Share of exposures (chosen by request id) whose record also keeps the request's messages and the answer's text, for online judging (`llm-ab arena judge-live`). These hold what users wrote: leave 0 where keeping it is not allowed. Default 0.",
      ),
  })
  .describe("Router sidecar settings.");
