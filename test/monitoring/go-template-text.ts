/**
 * What Prometheus prints for an alert's description in the generated promtool suites: the Go
 * template functions the rules use (`humanizeDuration`, `humanizePercentage`, `printf "%.4g"`),
 * for the magnitudes those suites produce.
 */
import type { ValueFormat } from "../../monitoring/guardrail-series.ts";

/** Go's `%.4g` for the magnitudes these suites produce (1e-4 ≤ |v| < 1e4). */
function g4(value: number): string {
  if (!(Math.abs(value) >= 1e-4 && Math.abs(value) < 1e4)) throw new RangeError(`no %.4g for ${value} here`);
  return String(Number(value.toPrecision(4)));
}

/** Go template output of the alert's value, as the rule's description prints it. */
function valueText(value: number, format: ValueFormat): string {
  switch (format) {
    case "duration":
      if (value >= 60) throw new RangeError("durations of a minute or more are not generated");
      return value >= 1 ? `${g4(value)}s` : `${g4(value * 1000)}ms`;
    case "percent":
      return `${g4(value * 100)}%`;
    case "usd":
    case "number":
      return g4(value);
  }
}

/** The description Prometheus renders from `template` for a variant and a value. */
export function expand(
  template: string,
  experiment: string,
  variant: string,
  value: number,
  format: ValueFormat,
): string {
  return template
    .replaceAll("{{ $labels.variant }}", variant)
    .replaceAll("{{ $labels.experiment }}", experiment)
    .replace(/\{\{ \$value \| humanize\w* \}\}|\{\{ printf "%\.4g" \$value \}\}/, valueText(value, format));
}
