/**
 * The shape of a Prometheus rule file (`groups:` → `rules:`), as plain data: what `promtool check
 * rules` reads, and what a prometheus-operator `PrometheusRule` carries under `spec`.
 */

/** A recording rule: `record` names the new series (`level:metric:operations`). */
export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}

/** An alerting rule: fires once `expr` has returned the series for `for`. */
export interface AlertingRule {
  /** CamelCase alert name. */
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  /** At least `experiment`, `action` and `severity`. */
  readonly labels: Readonly<Record<string, string>>;
  /** `summary` (static), `description` (templated) and, when the spec gives one, `runbook_url`. */
  readonly annotations: Readonly<Record<string, string>>;
}

export type Rule = RecordingRule | AlertingRule;

/** A rule group: rules evaluated in order, every `interval`. */
export interface RuleGroup {
  readonly name: string;
  readonly interval: string;
  readonly rules: readonly Rule[];
}

/** A whole rule file. */
export interface RuleFile {
  readonly groups: readonly RuleGroup[];
}

/** Whether `rule` records a series (rather than alerting). */
export function isRecordingRule(rule: Rule): rule is RecordingRule {
  return "record" in rule;
}
