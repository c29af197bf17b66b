/**
 * The dashboard of a spec with three arms: every treatment on every per-variant and guardrail
 * panel, checked on the queries' variant matchers and, under promtool, on the series they return.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parser } from "@prometheus-io/lezer-promql";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { renderDashboard } from "../../monitoring/dashboard.ts";
import { guardrailViews } from "../../monitoring/dashboards/guardrail-views.ts";
import { ruleGroupName, rulesYaml } from "../../monitoring/rules.ts";
import { loadSpecFile, parseSpec } from "../../spec/load.ts";
import { testRules } from "../helpers/promtool.ts";
import { panel } from "./dashboard-panels.ts";
import { dashboardQueries, substituteVariables } from "./dashboard-queries.ts";

const suiteDir = fileURLToPath(new URL("./promtool/", import.meta.url));
const threeArms = await loadSpecFile(`${suiteDir}three-arms-spec.yaml`);
const treatments = ["treatment-a", "treatment-b"];

/** three-arms-spec.yaml as plain data, to derive variations of it. */
function threeArmsInput(): Record<string, unknown> {
  return parse(readFileSync(`${suiteDir}three-arms-spec.yaml`, "utf8")) as Record<string, unknown>;
}

function twoArmVariants(): Record<string, unknown> {
  const { "treatment-b": _dropped, ...rest } = threeArmsInput().variants as Record<string, unknown>;
  return rest;
}

/** Every `variant` matcher in a query: operator and unquoted value. */
function variantMatchers(expr: string): { op: string; value: string }[] {
  const out: { op: string; value: string }[] = [];
  const cursor = parser.parse(expr).cursor();
  do {
    if (cursor.name !== "UnquotedLabelMatcher") continue;
    const node = cursor.node;
    const name = node.getChild("LabelName");
    const op = node.getChild("MatchOp");
    const value = node.getChild("StringLiteral");
    if (name === null || op === null || value === null) continue;
    if (expr.slice(name.from, name.to) !== "variant") continue;
    out.push({
      op: expr.slice(op.from, op.to),
      value: JSON.parse(expr.slice(value.from, value.to)) as string,
    });
  } while (cursor.next());
  return out;
}

/** Whether a label value passes a matcher (PromQL regexes are fully anchored). */
function passes(variant: string, { op, value }: { op: string; value: string }): boolean {
  const full = new RegExp(`^(?:${value})$`);
  if (op === "=") return variant === value;
  if (op === "!=") return variant !== value;
  if (op === "=~") return full.test(variant);
  return !full.test(variant);
}

describe("the dashboard of a spec with three arms", () => {
  const dashboard = renderDashboard(threeArms);

  it("offers every arm in the variant picker, control first", () => {
    const variables = (dashboard.templating as { list: Record<string, unknown>[] }).list;
    expect(variables.find((variable) => variable.name === "variant")).toMatchObject({
      query: "control,treatment-a,treatment-b",
      multi: true,
      includeAll: true,
    });
  });

  it("lets every treatment through every variant matcher of every query, with All variants picked", () => {
    const queries = dashboardQueries(dashboard);
    const withVariant = queries.filter(
      ({ expr }) => variantMatchers(substituteVariables(expr, threeArms)).length > 0,
    );
    expect(withVariant.length).toBeGreaterThan(20);
    for (const { where, expr } of withVariant) {
      for (const matcher of variantMatchers(substituteVariables(expr, threeArms))) {
        for (const treatment of treatments) {
          expect(
            passes(treatment, matcher),
            `${where}: ${treatment} against variant${matcher.op}"${matcher.value}"`,
          ).toBe(true);
        }
      }
    }
  });

  it("draws each guardrail's bounds as with one treatment, on panels whose legend names each variant", () => {
    const two = renderDashboard(parseSpec({ ...threeArmsInput(), variants: twoArmVariants() }));
    for (const view of guardrailViews(threeArms)) {
      for (const title of [`${view.title}: per variant`, `${view.title}: treatment ÷ control`]) {
        const found = panel(dashboard, title);
        expect(found.fieldConfig?.defaults.thresholds, title).toEqual(
          panel(two, title).fieldConfig?.defaults.thresholds,
        );
        for (const target of found.targets ?? []) expect(target.legendFormat, title).toContain("{{variant}}");
      }
    }
  });

  it("returns a series for every arm from the warm TTFT guardrail and latency panels, under promtool", () => {
    // The first test group of three-arms.yaml: treatment-b regresses from 10m, treatment-a does not.
    const suite = parse(readFileSync(`${suiteDir}three-arms.yaml`, "utf8")) as {
      tests: { input_series: unknown[] }[];
    };
    const at11m = { control: 0.495, "treatment-a": 0.495, "treatment-b": 2.375 };
    const ratios = { "treatment-a": 1, "treatment-b": 2.375 / 0.495 };
    const query = (title: string, refId = 0) =>
      substituteVariables(panel(dashboard, title).targets?.[refId]?.expr ?? "", threeArms, "5m");
    const recorded = "experiment_variant_replica_state:llmab_ttft_seconds:p95_rate5m";
    const warm = { experiment: "three-arms", replica_state: "warm" };
    const labels = (name: string, set: Record<string, string>) =>
      `${name}{${Object.entries(set)
        .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
        .join(", ")}}`;
    const testFile = stringify({
      rule_files: ["rules.yaml"],
      evaluation_interval: "1m",
      group_eval_order: [ruleGroupName(threeArms)],
      tests: [
        {
          interval: "1m",
          input_series: suite.tests[0]?.input_series,
          promql_expr_test: [
            {
              expr: query("ttft_p95_seconds (warm replicas) → pause: per variant"),
              eval_time: "11m",
              exp_samples: Object.entries(at11m).map(([variant, value]) => ({
                labels: labels(recorded, { ...warm, variant }),
                value,
              })),
            },
            {
              expr: query("ttft_p95_seconds (warm replicas) → pause: treatment ÷ control"),
              eval_time: "11m",
              exp_samples: Object.entries(ratios).map(([variant, value]) => ({
                labels: labels(`${recorded}_over_control`, { ...warm, variant }),
                value,
              })),
            },
            {
              // The p95 query of the latency panel (p50, p95, p99).
              expr: query("Time to first token (TTFT), warm replicas", 1),
              eval_time: "11m",
              exp_samples: Object.entries(at11m).map(([variant, value]) => ({
                labels: `{variant="${variant}"}`,
                value,
              })),
            },
          ],
        },
      ],
    });
    const run = testRules({ "rules.yaml": rulesYaml(threeArms), "dashboard.yaml": testFile }, [
      "dashboard.yaml",
    ]);
    expect(run.ok, run.output).toBe(true);
  });
});
