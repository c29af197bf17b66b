/**
 * The built-in guardrail metrics (spec/guardrail-metrics.ts) computed straight from the router's
 * metrics, for live panels that must not depend on the recording rules being loaded.
 */
import { type GuardrailMeasure, guardrailMetric } from "../../spec/guardrail-metrics.ts";
import type { Guardrail } from "../../spec/schema.ts";
import { equals, histogramQuantile, ratio, sumRate } from "./promql.ts";

/** PromQL of a value per variant (`by (variant)`) over `range`, for the series `matchers` select. */
export type Measure = (matchers: readonly string[], range: string) => string;

function catalogueMeasure(measure: GuardrailMeasure, replicaState: Guardrail["replicaState"]): Measure {
  return (matchers, range) => {
    if (measure.kind === "quantile") {
      const state = replicaState === "any" ? [] : [equals("replica_state", replicaState)];
      return histogramQuantile(measure.quantile, measure.histogram, [...matchers, ...state], range, [
        "variant",
      ]);
    }
    const { numerator, denominator } = measure;
    const side = (ref: typeof numerator) =>
      sumRate(ref.metric, ref.matchers === undefined ? matchers : [...matchers, ref.matchers], range, [
        "variant",
      ]);
    // Errors are a subset of requests: no error series means no errors, not no data.
    return ratio(side(numerator), side(denominator), numerator.metric === denominator.metric);
  };
}

/** A built-in guardrail metric as the router's metrics compute it; throws for any other name. */
export function builtInMeasure(name: string, replicaState: Guardrail["replicaState"] = "any"): Measure {
  const metric = guardrailMetric(name);
  if (metric === undefined) throw new RangeError(`${name} is not a built-in guardrail metric`);
  return catalogueMeasure(metric.measure, replicaState);
}
