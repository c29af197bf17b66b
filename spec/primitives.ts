/**
 * Small schemas shared by the spec's sections: names that end up in labels and resource names,
 * bounded numbers, Prometheus durations and URLs. Each carries a message that states its rule, so
 * a bad value is explained in the words of the rule rather than as a raw regular expression.
 */
import { z } from "zod";
import { describeValue } from "./issue-messages.ts";

/**
 * A string matching `pattern`; the error says `must be <rule>, got "<value>"`.
 * The rule is written for people, e.g. "lowercase letters, digits and dashes".
 */
export function patterned(pattern: RegExp, rule: string) {
  return z
    .string()
    .regex(pattern, { error: (issue) => `must be ${rule}, got ${describeValue(issue.input)}` });
}

/** Experiment names: a Kubernetes label value and resource-name prefix, so a DNS label of ≤ 50. */
export const EXPERIMENT_NAME = /^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$/;
/** Deployment names become Service and Deployment names (DNS labels), after the experiment name. */
export const DEPLOYMENT_NAME = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
/** Variant names appear in headers, labels and exposure records. */
export const VARIANT_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;
/** Metric and outcome-field names are Prometheus label values and recording-rule fragments. */
export const METRIC_NAME = /^[a-z][a-z0-9_]{0,63}$/;
/** Prometheus durations as used in rule files: one number and one unit. */
export const DURATION = /^\d+(ms|s|m|h|d)$/;

export const experimentName = patterned(
  EXPERIMENT_NAME,
  "1–50 lowercase letters, digits or dashes, starting and ending with a letter or digit",
);
export const deploymentName = patterned(
  DEPLOYMENT_NAME,
  "1–40 lowercase letters, digits or dashes, starting and ending with a letter or digit",
);
export const variantName = patterned(
  VARIANT_NAME,
  "1–40 lowercase letters, digits, dashes or underscores, starting with a letter or digit",
);
export const metricName = patterned(
  METRIC_NAME,
  "a lowercase snake_case name (letters, digits, underscores; starting with a letter; ≤ 64 chars)",
);

interface RangeOptions {
  /** The lower bound itself is not allowed (e.g. `top_p` > 0). */
  readonly exclusiveMin?: boolean;
  /** The upper bound itself is not allowed (e.g. a baseline rate < 1). */
  readonly exclusiveMax?: boolean;
  /** Only whole numbers. */
  readonly integer?: boolean;
}

/** A number in a closed (or, per options, open) range; the error names both bounds and the value. */
export function between(min: number, max: number, options: RangeOptions = {}) {
  const left = options.exclusiveMin ? "(" : "[";
  const right = options.exclusiveMax ? ")" : "]";
  const whole = options.integer ? "a whole number " : "";
  const rule =
    options.exclusiveMin || options.exclusiveMax
      ? `must be ${whole}in ${left}${min}, ${max}${right}`
      : `must be ${whole}between ${min} and ${max}`;
  const error = (issue: { input: unknown }) => `${rule}, got ${describeValue(issue.input)}`;
  const base = options.integer ? z.int({ error }) : z.number({ error });
  const low = options.exclusiveMin ? base.gt(min, { error }) : base.min(min, { error });
  return options.exclusiveMax ? low.lt(max, { error }) : low.max(max, { error });
}

/** A whole number ≥ `min`. */
export function intAtLeast(min: number) {
  return z.int().min(min);
}

/** A strictly positive number (prices may be 0, sizes may not). */
export const positiveNumber = z.number().gt(0);

/** A Prometheus duration such as `30s`, `1m`, `2h`; zero is rejected (a window must have length). */
export const duration = z
  .string()
  .regex(DURATION, {
    error: (issue) =>
      `must be a Prometheus duration: a whole number followed by ms, s, m, h or d (e.g. "1m", "30s"), got ${describeValue(issue.input)}`,
  })
  // Only a well-formed duration can be zero; a malformed one is already reported above.
  .refine((text) => !DURATION.test(text) || durationSeconds(text) > 0, {
    error: (issue) => `must be longer than zero, got ${describeValue(issue.input)}`,
  });

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** Seconds in a Prometheus duration (`"5m"` → 300); NaN when the text is not one. */
export function durationSeconds(text: string): number {
  const match = DURATION.exec(text);
  if (!match) return Number.NaN;
  const unit = match[1] ?? "";
  return Number(text.slice(0, text.length - unit.length)) * (UNIT_SECONDS[unit] ?? Number.NaN);
}

/** An absolute http:// or https:// URL. */
export const httpUrl = z.url({
  protocol: /^https?$/,
  error: (issue) => `must be an http:// or https:// URL, got ${describeValue(issue.input)}`,
});

/** Text that must say something: surrounding whitespace is trimmed and the rest may not be empty. */
export const text = z.string().trim().min(1);
