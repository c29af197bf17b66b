/**
 * The outcomes the simulated users report after a conversation, per the scenario's `outcomes`:
 * turning a conversation's pre-drawn noise into the value of one metric for the variant that served
 * it, and checking before any traffic that the scenario gives every variant a draw for every outcome
 * the spec declares. Pure: no I/O, no clock.
 */

import { outcomeFields } from "../../router/outcomes.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import type { OutcomeDraw, Scenario } from "../scenario-schema.ts";
import type { OutcomeNoise } from "./conversations.ts";

/**
 * The value a conversation reports for one metric, or undefined when it reports none (a survey
 * answered by only `reportShare` of conversations).
 *
 * - Binary `{ probability, ifError?, reportShare }`: 1 when the noise's uniform falls under the
 *   probability (Bernoulli); `ifError` instead when a turn of the conversation failed and it is set.
 * - Continuous `{ mean, sd, min?, max?, round, reportShare }`: `mean + sd * normal`, clipped to
 *   [min, max], then rounded to a whole number when `round` is set.
 */
export function outcomeValue(draw: OutcomeDraw, noise: OutcomeNoise, failed: boolean): number | undefined {
  // The report draw is independent of the value's: which reports are lost does not depend on them.
  if (noise.report >= draw.reportShare) return undefined;
  if ("probability" in draw) {
    if (failed && draw.ifError !== undefined) return draw.ifError;
    return noise.uniform < draw.probability ? 1 : 0;
  }
  let value = draw.mean + draw.sd * noise.normal;
  if (draw.min !== undefined) value = Math.max(draw.min, value);
  if (draw.max !== undefined) value = Math.min(draw.max, value);
  return draw.round ? Math.round(value) : value;
}

/**
 * The outcome metrics to draw, sorted: the spec's outcome fields. Throws, naming what is wrong,
 * when `outcomes` lacks a spec variant or one of its metrics, names a variant or metric the spec
 * does not declare, or gives a binary metric a continuous draw (the router takes only 0 or 1).
 */
export function outcomeMetrics(spec: ExperimentSpec, outcomes: Scenario["outcomes"]): string[] {
  const fields = outcomeFields(spec);
  const metrics = [...fields.keys()].sort();
  const variants = Object.keys(spec.variants);
  const problems: string[] = [];
  for (const variant of variants) {
    const draws = outcomes[variant];
    if (draws === undefined) {
      problems.push(
        `outcomes.${variant} is missing: every variant of the spec needs a draw for ${metrics.join(", ")}`,
      );
      continue;
    }
    for (const metric of metrics) {
      const draw = draws[metric];
      if (draw === undefined) problems.push(`outcomes.${variant}.${metric} is missing`);
      else if (fields.get(metric) === "binary" && !("probability" in draw))
        problems.push(
          `outcomes.${variant}.${metric} must be { probability } because ${metric} is a binary metric`,
        );
    }
    for (const metric of Object.keys(draws)) {
      if (!fields.has(metric))
        problems.push(
          `outcomes.${variant}.${metric} is not an outcome of spec ${spec.name} (its outcomes: ${metrics.join(", ")})`,
        );
    }
  }
  for (const variant of Object.keys(outcomes)) {
    if (!variants.includes(variant))
      problems.push(
        `outcomes.${variant} is not a variant of spec ${spec.name} (its variants: ${variants.join(", ")})`,
      );
  }
  if (problems.length > 0)
    throw new Error(`scenario outcomes do not match the spec:\n- ${problems.join("\n- ")}`);
  return metrics;
}
