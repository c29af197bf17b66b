/**
 * `metrics`: what the experiment decides on (primary), watches (secondary) and must not break
 * (guardrails).
 *
 * Effect sizes are magnitudes: `mde` (absolute, in the metric's unit) or `relativeMde` (a fraction
 * of the baseline) are positive, and `direction` says which way is good, so a binary metric with
 * baseline 0.60, mde 0.05 and direction increase is sized to detect 0.60 → 0.65. Requirements that
 * depend on `kind` (a binary primary needs a baseline, a continuous one an sd, …) are checked in
 * validate.ts, so they are reported together with every other problem.
 */
import { z } from "zod";
import { intAtLeast, metricName, positiveNumber, text } from "./primitives.ts";

export const metricKinds = ["binary", "continuous", "ratio"] as const;
export type MetricKind = (typeof metricKinds)[number];
export const metricDirections = ["increase", "decrease"] as const;
export type MetricDirection = (typeof metricDirections)[number];

export const metricSchema = z.strictObject({
  name: metricName.describe("Outcome name, as reported to `POST /v1/outcomes` and used in labels."),
  description: text.optional().describe("What the metric means, for dashboards and the verdict report."),
  kind: z
    .enum(metricKinds)
    .describe(
      "`binary`: a 0/1 outcome per unit (rate); `continuous`: a number per unit (mean); `ratio`: sum of numerator over sum of denominator across units.",
    ),
  direction: z
    .enum(metricDirections)
    .default("increase")
    .describe("Which way is good: `increase` (higher is better) or `decrease`. Default increase."),
  baseline: z
    .number()
    .optional()
    .describe(
      "Control's expected value: a rate in (0, 1) for binary, a mean for continuous, a ratio for ratio.",
    ),
  mde: positiveNumber
    .optional()
    .describe("Minimum detectable effect, absolute, in the metric's unit (0.05 on a rate is 5 points)."),
  relativeMde: positiveNumber
    .optional()
    .describe("Minimum detectable effect as a fraction of the baseline (0.1 is 10 %). Needs baseline."),
  sd: positiveNumber
    .optional()
    .describe(
      "Standard deviation per unit (continuous), or of the per-unit linearised ratio (ratio), from history or a pilot.",
    ),
  numerator: metricName.optional().describe("Ratio metrics: the per-unit outcome field summed on top."),
  denominator: metricName.optional().describe("Ratio metrics: the per-unit outcome field summed below."),
  covariate: metricName
    .optional()
    .describe(
      "Pre-period field (`pre.<covariate>` in the analysis data) used for CUPED variance reduction; usually the metric's own name, i.e. the same outcome measured before the experiment. Absent: no adjustment.",
    ),
});

export type Metric = z.output<typeof metricSchema>;

/**
 * The effect a metric is sized for, in its own unit: `mde`, or `relativeMde × |baseline|`.
 * Undefined when neither is given (or relativeMde lacks its baseline).
 */
export function absoluteMde(metric: Pick<Metric, "mde" | "relativeMde" | "baseline">): number | undefined {
  if (metric.mde !== undefined) return metric.mde;
  if (metric.relativeMde !== undefined && metric.baseline !== undefined) {
    return metric.relativeMde * Math.abs(metric.baseline);
  }
  return undefined;
}

/** The treatment value the sizing aims to detect: baseline moved by the MDE in the good direction. */
export function targetValue(
  metric: Pick<Metric, "mde" | "relativeMde" | "baseline" | "direction">,
): number | undefined {
  const effect = absoluteMde(metric);
  if (effect === undefined || metric.baseline === undefined) return undefined;
  return metric.direction === "increase" ? metric.baseline + effect : metric.baseline - effect;
}

export const replicaStates = ["warm", "cold", "any"] as const;
export const guardrailActions = ["pause", "rollback", "review"] as const;
export type GuardrailAction = (typeof guardrailActions)[number];

export const guardrailSchema = z.strictObject({
  name: metricName.describe(
    "A built-in router metric (see guardrail-metrics.ts, e.g. ttft_p95_seconds, error_rate) or a metric declared in primary/secondary.",
  ),
  replicaState: z
    .enum(replicaStates)
    .default("any")
    .describe(
      "Latency metrics only: judge requests served by `warm` replicas, `cold` ones, or `any`. Default any.",
    ),
  max: z
    .number()
    .optional()
    .describe(
      "Absolute ceiling in the metric's unit (lower-is-better metrics): treatment above it breaches.",
    ),
  min: z
    .number()
    .optional()
    .describe("Absolute floor in the metric's unit (higher-is-better metrics): treatment below it breaches."),
  relativeMax: z
    .number()
    .min(0)
    .optional()
    .describe(
      "Largest allowed relative regression versus control, e.g. 0.10: treatment may be at most 10 % worse (treatment/control − 1 in the bad direction).",
    ),
  windows: intAtLeast(1)
    .default(2)
    .describe("Consecutive evaluation windows a breach must hold before the action is taken. Default 2."),
  minSamples: intAtLeast(1)
    .default(100)
    .describe(
      "Observations per variant a window needs before it can breach; fewer is inconclusive. Default 100.",
    ),
  action: z
    .enum(guardrailActions)
    .default("review")
    .describe(
      "`pause`: treatment gets no traffic until resumed; `rollback`: the same, latched until a person resumes; `review`: notify only. Default review.",
    ),
});

export const metricsSchema = z
  .strictObject({
    primary: z
      .array(metricSchema)
      .min(1)
      .describe("Decision metrics, declared before launch and sized: at least one."),
    secondary: z
      .array(metricSchema)
      .default(() => [])
      .describe(
        "Metrics watched and reported (with multiple-testing correction) but not decided on. Default none.",
      ),
    guardrails: z
      .array(guardrailSchema)
      .default(() => [])
      .describe(
        "Metrics that must not degrade; a sustained breach pauses, rolls back or flags. Default none.",
      ),
  })
  .describe("Primary, secondary and guardrail metrics.");
