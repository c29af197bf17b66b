/**
 * Small PromQL builders for the dashboard's panel queries. Queries carry Grafana template variables
 * (`$experiment`, `$variant`, `$__rate_interval`), which Grafana substitutes before sending them;
 * every builder returns plain text so tests can substitute and parse it.
 */

/** Grafana's per-panel range for `rate()`: at least four scrape intervals, so it never comes up empty. */
export const RATE_INTERVAL = "$__rate_interval";

/** Matches the dashboard's experiment (a single-valued variable). */
export const EXPERIMENT = 'experiment="$experiment"';
/** Matches the variants picked in the `variant` variable (Grafana expands a multi-value to `a|b`). */
export const PICKED_VARIANTS = 'variant=~"$variant"';

/** A PromQL string literal: double-quoted, with backslashes and quotes escaped. */
export function quoted(value: string): string {
  return `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** A label matcher `name="value"`, the value quoted. */
export function equals(label: string, value: string): string {
  return `${label}=${quoted(value)}`;
}

/** A matcher for any of `values` exactly: `=` for one value, an anchored, escaped `=~` alternation for more. */
export function oneOf(label: string, values: readonly string[]): string {
  const [first, ...rest] = values;
  if (first === undefined) throw new RangeError(`oneOf(${label}): needs at least one value`);
  if (rest.length === 0) return equals(label, first);
  const escaped = values.map((value) => value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return `${label}=~${quoted(escaped.join("|"))}`;
}

/** `metric{matchers}` (or the bare name when there are none). */
export function selector(metric: string, matchers: readonly string[]): string {
  return matchers.length === 0 ? metric : `${metric}{${matchers.join(", ")}}`;
}

/** `sum by (labels) (rate(metric{matchers}[range]))`; `sum(...)` when `by` is empty. */
export function sumRate(metric: string, matchers: readonly string[], range: string, by: readonly string[]) {
  const grouping = by.length === 0 ? "sum" : `sum by (${by.join(", ")})`;
  return `${grouping} (rate(${selector(metric, matchers)}[${range}]))`;
}

/**
 * The `q` quantile of a histogram: bucket rates summed by `le` and `by` first, so replicas and
 * router instances pool into one distribution before `histogram_quantile` interpolates.
 */
export function histogramQuantile(
  q: number,
  histogram: string,
  matchers: readonly string[],
  range: string,
  by: readonly string[],
): string {
  return `histogram_quantile(${q}, ${sumRate(`${histogram}_bucket`, matchers, range, ["le", ...by])})`;
}

/**
 * `numerator / denominator`, summing each side before dividing (a ratio of sums, never a mean of
 * ratios). With `zeroFill` a missing numerator reads as zero — right only when the numerator's
 * series are a subset of the denominator's (errors among requests), where absence means none.
 */
export function ratio(numerator: string, denominator: string, zeroFill = false): string {
  const top = zeroFill ? `(${numerator} or 0 * ${denominator})` : `(${numerator})`;
  return `${top} / (${denominator})`;
}
