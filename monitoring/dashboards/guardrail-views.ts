/**
 * The spec's guardrails as the dashboard needs them: thresholds as data (absolute bound, allowed
 * ratio to control), the same numbers the alert rules compare against, plus unit, title and the
 * alert's name, and the threshold steps panels draw from them.
 */
import { guardrailMetric } from "../../spec/guardrail-metrics.ts";
import type { ExperimentSpec, Guardrail } from "../../spec/schema.ts";
import { guardrailAlertNames } from "../alert-rules.ts";

/** A threshold line: at `value`, the colour changes to `color` (Grafana threshold step). */
export interface ThresholdStep {
  readonly value: number | null;
  readonly color: string;
}

/** A guardrail's bounds, as data. */
export interface GuardrailThresholds {
  /** `max` for lower-is-better metrics (treatment above breaches), `min` for higher-is-better ones. */
  readonly absolute?: { readonly bound: "max" | "min"; readonly value: number };
  /** Treatment ÷ control beyond this breaches: 1 + relativeMax (lower-is-better) or 1 − relativeMax. */
  readonly ratioLimit?: number;
}

/** Everything a guardrail panel needs. */
export interface GuardrailView {
  /** Position in `metrics.guardrails`, for stable titles and ordering. */
  readonly index: number;
  readonly guardrail: Guardrail;
  readonly lowerIsBetter: boolean;
  /** Grafana unit id of the value. */
  readonly unit: string;
  /** e.g. `ttft_p95_seconds (warm replicas) → pause`. */
  readonly title: string;
  readonly thresholds: GuardrailThresholds;
  /** The alert the rules raise for it (spec/…/alert-rules.ts), named in the panel so a page leads here. */
  readonly alertName: string;
}

const catalogueUnits = { seconds: "s", ratio: "percentunit", usd: "currencyUSD", tokens: "short" } as const;

function thresholdsOf(guardrail: Guardrail, lowerIsBetter: boolean): GuardrailThresholds {
  const bound = lowerIsBetter ? guardrail.max : guardrail.min;
  return {
    ...(bound === undefined ? {} : { absolute: { bound: lowerIsBetter ? "max" : "min", value: bound } }),
    ...(guardrail.relativeMax === undefined
      ? {}
      : { ratioLimit: lowerIsBetter ? 1 + guardrail.relativeMax : 1 - guardrail.relativeMax }),
  };
}

function titleOf(guardrail: Guardrail): string {
  const state = guardrail.replicaState === "any" ? "" : ` (${guardrail.replicaState} replicas)`;
  return `${guardrail.name}${state} → ${guardrail.action}`;
}

/** One view per guardrail of the spec, in spec order. */
export function guardrailViews(spec: ExperimentSpec): GuardrailView[] {
  const declared = [...spec.metrics.primary, ...spec.metrics.secondary];
  const alertNames = guardrailAlertNames(spec);
  return spec.metrics.guardrails.map((guardrail, index) => {
    const builtIn = guardrailMetric(guardrail.name);
    const common = { index, guardrail, title: titleOf(guardrail), alertName: alertNames[index] ?? "" };
    if (builtIn !== undefined) {
      return {
        ...common,
        lowerIsBetter: true,
        unit: catalogueUnits[builtIn.unit],
        thresholds: thresholdsOf(guardrail, true),
      };
    }
    const metric = declared.find((each) => each.name === guardrail.name);
    // The spec's cross-field checks reject a guardrail naming neither; reaching here is a bug upstream.
    if (metric === undefined) throw new Error(`guardrail ${guardrail.name} names no known metric`);
    const lowerIsBetter = guardrail.direction === "decrease";
    return {
      ...common,
      lowerIsBetter,
      unit: metric.kind === "binary" ? "percentunit" : "short",
      thresholds: thresholdsOf(guardrail, lowerIsBetter),
    };
  });
}

const OK = "green";
const BREACH = "red";

/** Grafana threshold steps for a bound: breach colour on the bad side of it. */
export function boundSteps(value: number | undefined, lowerIsBetter: boolean): ThresholdStep[] {
  if (value === undefined) return [{ value: null, color: OK }];
  return lowerIsBetter
    ? [
        { value: null, color: OK },
        { value, color: BREACH },
      ]
    : [
        { value: null, color: BREACH },
        { value, color: OK },
      ];
}

/** Dashed threshold lines for a panel: the absolute bounds of the guardrails it shows, and a note naming them. */
export interface ThresholdLines {
  readonly steps: ThresholdStep[];
  /** A sentence for the panel description, empty when no guardrail applies. */
  readonly note: string;
}

/**
 * The absolute bounds of the guardrails `applies` picks, as threshold steps. Ceilings and floors
 * are not mixed on one panel (every panel shows one metric, and a metric has one direction).
 */
export function thresholdLines(
  views: readonly GuardrailView[],
  applies: (view: GuardrailView) => boolean,
  unitLabel = "",
): ThresholdLines {
  const picked = views.filter((view) => applies(view) && view.thresholds.absolute !== undefined);
  const first = picked[0];
  if (first === undefined) return { steps: [{ value: null, color: OK }], note: "" };
  const values = [...new Set(picked.map((view) => view.thresholds.absolute?.value ?? 0))].sort(
    (a, b) => a - b,
  );
  const steps: ThresholdStep[] = first.lowerIsBetter
    ? [{ value: null, color: OK }, ...values.map((value) => ({ value, color: BREACH }))]
    : [{ value: null, color: BREACH }, ...values.map((value) => ({ value, color: OK }))];
  const named = picked.map((view) => `${view.title} at ${view.thresholds.absolute?.value}${unitLabel}`);
  return {
    steps,
    note: ` Dashed lines: guardrail ${first.lowerIsBetter ? "ceilings" : "floors"} (${named.join("; ")}).`,
  };
}
