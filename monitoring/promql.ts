/**
 * Small PromQL text builders shared by the rule modules: selectors, number literals and the
 * `by (...)` label lists, so every generated expression spells them the same way.
 */

/** A label matcher with a quoted value: `matcher("variant", "!=", "control")` → `variant!="control"`. */
export function matcher(label: string, op: "=" | "!=" | "=~" | "!~", value: string): string {
  return `${label}${op}${JSON.stringify(value)}`;
}

/** `name{m1, m2}`; matchers already formatted (see {@link matcher}). */
export function selector(name: string, matchers: readonly string[]): string {
  return matchers.length === 0 ? name : `${name}{${matchers.join(", ")}}`;
}

/** A label list for `by (...)` / `on (...)`. */
export function labelList(labels: readonly string[]): string {
  return `(${labels.join(", ")})`;
}

/**
 * A number as a PromQL literal, rounded to 12 significant digits so sums such as 1 + 0.1 print as
 * the `1.1` a reader expects rather than a binary-floating-point tail.
 */
export function numberLiteral(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`);
  return String(Number(value.toPrecision(12)));
}
