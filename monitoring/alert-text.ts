/**
 * The words of guardrail alerts: how values and thresholds are printed, what each action does,
 * and what a guardrail allows. Go template pipelines print `$value` as Prometheus expands it.
 */
import type { GuardrailAction } from "../spec/metrics-schema.ts";
import type { GuardrailSeries, ValueFormat } from "./guardrail-series.ts";
import { numberLiteral } from "./promql.ts";

/** The thresholds one alert applies (a cold review may use fewer than its guardrail). */
export interface Limits {
  /** Ceiling (lower-is-better) or floor (higher-is-better) in the metric's unit. */
  readonly absolute: number | undefined;
  /** Largest allowed relative regression versus control (0.1 is 10 %). */
  readonly relative: number | undefined;
}

/** The alert's value in a description, per format: `1.975s`, `1%`, `0.0123 USD`, `3.5`. */
export const valueTemplates: Readonly<Record<ValueFormat, string>> = {
  duration: "{{ $value | humanizeDuration }}",
  percent: "{{ $value | humanizePercentage }}",
  usd: '{{ printf "%.4g" $value }} USD',
  number: '{{ printf "%.4g" $value }}',
};

/** A threshold from the spec, printed in the same unit as {@link valueTemplates} prints values. */
export function formatThreshold(value: number, format: ValueFormat): string {
  switch (format) {
    case "duration":
      return `${numberLiteral(value)}s`;
    case "percent":
      return `${numberLiteral(value * 100)}%`;
    case "usd":
      return `${numberLiteral(value)} USD`;
    case "number":
      return numberLiteral(value);
  }
}

/** What happens when an alert of each action fires (DESIGN.md, "Guardrail actions"). */
export const actionTexts: Readonly<Record<GuardrailAction, string>> = {
  pause: "Action: pause — the router sends this treatment no traffic until a person resumes it.",
  rollback:
    "Action: rollback — the router sends this treatment no traffic, latched until a person resumes it.",
  review: "Action: review — notify only; look at the experiment dashboard before ramping.",
};

/**
 * What happens when an alert of `action` fires in an experiment with `treatments` treatments. The
 * router's runtime state belongs to the whole experiment (router/admin.ts, router/assigner.ts): a
 * pause or rollback raised by one treatment's alert stops every treatment, so with several the
 * text says so rather than let a reader think the healthy ones keep their traffic.
 */
export function actionText(action: GuardrailAction, treatments: number): string {
  if (treatments <= 1 || action === "review") return actionTexts[action];
  return action === "pause"
    ? "Action: pause — the router pauses the whole experiment: every treatment, not only this one, gets no traffic until a person resumes it."
    : "Action: rollback — the router rolls back the whole experiment: every treatment, not only this one, gets no traffic, latched until a person resumes it.";
}

/** What a guardrail allows: "at most 1.5s and at most 10% above control". */
export function limitsText(series: GuardrailSeries, limits: Limits): string {
  const texts: string[] = [];
  if (limits.absolute !== undefined) {
    const bound = series.lowerIsBetter ? "at most" : "at least";
    texts.push(`${bound} ${formatThreshold(limits.absolute, series.format)}`);
  }
  if (limits.relative !== undefined) {
    const side = series.lowerIsBetter ? "above" : "below";
    texts.push(`at most ${numberLiteral(limits.relative * 100)}% ${side} control`);
  }
  return texts.join(" and ");
}

/** What a breach of `limits` is: "above 10s or more than 25% above control's". */
export function breachText(series: GuardrailSeries, limits: Limits): string {
  const worse = series.lowerIsBetter ? "above" : "below";
  const texts: string[] = [];
  if (limits.absolute !== undefined)
    texts.push(`${worse} ${formatThreshold(limits.absolute, series.format)}`);
  if (limits.relative !== undefined) {
    texts.push(`more than ${numberLiteral(limits.relative * 100)}% ${worse} control's`);
  }
  return texts.join(" or ");
}
