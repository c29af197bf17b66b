/**
 * Reading a rendered dashboard back for tests: every PromQL query in it, the template variables
 * Grafana would substitute, and the PromQL syntax tree (lezer-promql, the parser of Prometheus's own UI).
 */
import { parser } from "@prometheus-io/lezer-promql";
import type { DashboardModel } from "../../monitoring/dashboard.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";

export interface PanelQuery {
  /** Panel title, or `annotation: <name>`. */
  readonly where: string;
  readonly expr: string;
}

type Json = Record<string, unknown>;
const list = (value: unknown): Json[] => (Array.isArray(value) ? (value as Json[]) : []);

/** Every query of every panel (rows included, in case one is collapsed) and every annotation. */
export function dashboardQueries(dashboard: DashboardModel): PanelQuery[] {
  const out: PanelQuery[] = [];
  const visit = (panel: Json) => {
    for (const target of list(panel.targets)) {
      out.push({ where: String(panel.title), expr: String(target.expr) });
    }
    for (const inner of list(panel.panels)) visit(inner);
  };
  for (const panel of list(dashboard.panels)) visit(panel);
  for (const annotation of list((dashboard.annotations as Json | undefined)?.list)) {
    if (typeof annotation.expr === "string")
      out.push({ where: `annotation: ${annotation.name}`, expr: annotation.expr });
  }
  return out;
}

/** `$name`, `${name}` and `[[name]]` references to Grafana variables in a query. */
export function variableReferences(expr: string): string[] {
  return [...expr.matchAll(/\$\{(\w+)\}|\$(\w+)|\[\[(\w+)\]\]/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? "");
}

/**
 * The query as Grafana sends it: the dashboard's variables replaced as Grafana formats them for
 * Prometheus (a multi-value variable becomes a regex alternation), built-in intervals by a duration.
 */
export function substituteVariables(expr: string, spec: ExperimentSpec, rateInterval = "1m"): string {
  const values: Record<string, string> = {
    experiment: spec.name,
    variant: Object.keys(spec.variants).join("|"),
    __rate_interval: rateInterval,
    __interval: rateInterval,
    __range: "1h",
  };
  return expr.replace(/\$\{(\w+)\}|\$(\w+)|\[\[(\w+)\]\]/g, (whole, a, b, c) => values[a ?? b ?? c] ?? whole);
}

/** Syntax errors in a PromQL expression: the text of each error node, empty when it parses cleanly. */
export function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`at ${node.from}: "${expr.slice(node.from, node.to + 10)}"`);
    },
  });
  return errors;
}

/** A vector selector of a query: the metric it names and the labels it matches on. */
export interface SelectorUse {
  readonly metric: string;
  readonly labels: readonly string[];
}

/** Every vector selector in a parsed query. */
export function selectorsOf(expr: string): SelectorUse[] {
  const out: SelectorUse[] = [];
  const cursor = parser.parse(expr).cursor();
  do {
    if (cursor.name !== "VectorSelector") continue;
    const node = cursor.node;
    const identifier = node.getChild("Identifier");
    const labels: string[] = [];
    const matchers = node.getChild("LabelMatchers");
    for (const matcher of matchers?.getChildren("UnquotedLabelMatcher") ?? []) {
      const name = matcher.getChild("LabelName");
      if (name !== null) labels.push(expr.slice(name.from, name.to));
    }
    out.push({ metric: identifier === null ? "" : expr.slice(identifier.from, identifier.to), labels });
  } while (cursor.next());
  return out;
}
