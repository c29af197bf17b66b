import { parser } from "@prometheus-io/lezer-promql";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { guardrailAlertNames } from "../../monitoring/alert-rules.ts";
import type { MonitoringProfile } from "../../monitoring/config.ts";
import type { AlertingRule, RecordingRule, RuleFile } from "../../monitoring/rule-file.ts";
import { isRecordingRule } from "../../monitoring/rule-file.ts";
import { renderRules, rulesYaml } from "../../monitoring/rules.ts";
import { srmCriticalZ } from "../../monitoring/srm-rules.ts";
import { parseSpec } from "../../spec/load.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { normQuantile } from "../../stats/distributions.ts";
import { DELETE, exampleInput, type Patch, patched } from "../spec/spec-fixtures.ts";

const examples = {
  "support-bot-policy-prompt": parseSpec(exampleInput("promptDuel")),
  "support-bot-model-swap-70b": parseSpec(exampleInput("modelSwap")),
} as const;

function specWith(which: "promptDuel" | "modelSwap", ...patches: Patch[]): ExperimentSpec {
  return parseSpec(patched(exampleInput(which), patches), "monitoring test spec");
}

const renderings = Object.values(examples).flatMap((spec) =>
  (["production", "local"] as const).map((profile) => ({ spec, profile, name: `${spec.name} (${profile})` })),
);

function recordings(file: RuleFile): RecordingRule[] {
  return file.groups.flatMap((group) => group.rules.filter(isRecordingRule));
}

function alerts(file: RuleFile): AlertingRule[] {
  return file.groups.flatMap((group) =>
    group.rules.filter((rule): rule is AlertingRule => !isRecordingRule(rule)),
  );
}

function alert(spec: ExperimentSpec, name: string, profile: MonitoringProfile = "production"): AlertingRule {
  const found = alerts(renderRules(spec, { profile })).find((rule) => rule.alert === name);
  if (found === undefined) throw new Error(`no alert ${name}`);
  return found;
}

const LEVELS = ["experiment", "experiment_variant", "experiment_variant_replica_state"];

describe("renderRules", () => {
  it.each(renderings)(
    "names every recorded series of $name level:metric:operations, each once",
    ({ spec, profile }) => {
      const names = recordings(renderRules(spec, { profile })).map((rule) => rule.record);
      expect(new Set(names).size).toBe(names.length);
      for (const name of names) {
        const [level = "", metric = "", operations = "", ...rest] = name.split(":");
        expect(rest, name).toEqual([]);
        expect(LEVELS.includes(level.replace(/_le$/, "")), name).toBe(true);
        expect(metric, name).toMatch(/^llmab_[a-z0-9_]+$/);
        expect(operations, name).toMatch(/^[a-z0-9_]+$/);
      }
    },
  );

  it.each(renderings)(
    "writes expressions for $name that parse as PromQL and select only this experiment's series",
    ({ spec, profile }) => {
      for (const rule of renderRules(spec, { profile }).groups.flatMap((group) => group.rules)) {
        const tree = parser.parse(rule.expr);
        let selectors = 0;
        tree.iterate({
          enter: (node) => {
            expect(node.type.isError, `${rule.expr}\nhas a syntax error at ${node.from}`).toBe(false);
            if (node.type.name !== "VectorSelector") return;
            selectors++;
            expect(rule.expr.slice(node.from, node.to)).toContain(`experiment="${spec.name}"`);
          },
        });
        expect(selectors).toBeGreaterThan(0);
      }
    },
  );

  it("records p50, p95 and p99 of TTFT, TPOT, ITL and e2e per experiment × variant × replica_state and per variant", () => {
    const names = recordings(renderRules(examples["support-bot-policy-prompt"])).map((rule) => rule.record);
    for (const histogram of ["ttft", "tpot", "itl", "e2e"]) {
      for (const quantile of ["p50", "p95", "p99"]) {
        expect(names).toContain(
          `experiment_variant_replica_state:llmab_${histogram}_seconds:${quantile}_rate5m`,
        );
        expect(names).toContain(`experiment_variant:llmab_${histogram}_seconds:${quantile}_rate5m`);
      }
    }
  });

  it("records the error ratio, cost per session, request and assignment rates, the configured share and the SRM z-score", () => {
    const names = recordings(renderRules(examples["support-bot-policy-prompt"])).map((rule) => rule.record);
    expect(names).toEqual(
      expect.arrayContaining([
        "experiment_variant:llmab_error_rate:ratio_rate5m",
        "experiment_variant:llmab_cost_per_session_usd:ratio_rate5m",
        "experiment_variant:llmab_requests:rate5m",
        "experiment_variant:llmab_assignments:rate5m",
        "experiment_variant:llmab_treatment_fraction:max",
        "experiment_variant:llmab_assignments:share_increase1h",
        "experiment_variant:llmab_assignments:srm_zscore_increase1h",
      ]),
    );
  });

  it("records a treatment ÷ control ratio for every guardrail metric, cold twins of warm latency included", () => {
    const names = recordings(renderRules(examples["support-bot-model-swap-70b"])).map((rule) => rule.record);
    const ratios = names.filter((name) => name.endsWith("_over_control"));
    expect(ratios.sort()).toEqual(
      [
        "experiment_variant_replica_state:llmab_ttft_seconds:p95_rate5m_over_control",
        "experiment_variant_replica_state:llmab_tpot_seconds:p95_rate5m_over_control",
        "experiment_variant_replica_state:llmab_ttft_seconds:p99_rate5m_over_control",
        "experiment_variant:llmab_error_rate:ratio_rate5m_over_control",
        "experiment_variant:llmab_cost_per_session_usd:ratio_rate5m_over_control",
        "experiment_variant:llmab_outcome_csat_score:mean_rate5m_over_control",
      ].sort(),
    );
  });

  it.each([
    ["support-bot-policy-prompt", "production", "LlmAbGuardrailTtftP95SecondsWarm", "2m"],
    ["support-bot-policy-prompt", "production", "LlmAbGuardrailErrorRate", "2m"],
    ["support-bot-policy-prompt", "production", "LlmAbGuardrailCostPerSessionUsd", "3m"],
    ["support-bot-policy-prompt", "local", "LlmAbGuardrailTtftP95SecondsWarm", "4s"],
    ["support-bot-policy-prompt", "local", "LlmAbGuardrailCostPerSessionUsd", "6s"],
    ["support-bot-model-swap-70b", "production", "LlmAbGuardrailTtftP99SecondsCold", "3m"],
    ["support-bot-model-swap-70b", "production", "LlmAbColdStartTpotP95Seconds", "2m"],
    ["support-bot-model-swap-70b", "local", "LlmAbGuardrailCsatScore", "6s"],
  ] as const)("holds %s (%s) %s for windows × interval = %s", (example, profile, name, hold) => {
    expect(alert(examples[example], name, profile).for).toBe(hold);
  });

  it("uses each profile's interval for its one group and its window in every rate", () => {
    const spec = examples["support-bot-policy-prompt"];
    const local = renderRules(spec, { profile: "local" });
    expect(local.groups.map((group) => group.interval)).toEqual(["2s"]);
    const exprs = local.groups.flatMap((group) => group.rules.map((rule) => rule.expr)).join("\n");
    const ranges = new Set([...exprs.matchAll(/\[(\w+)\]/g)].map((match) => match[1]));
    expect(ranges).toEqual(new Set(["10s", "2m"]));
    expect(renderRules(spec).groups.map((group) => group.interval)).toEqual(["1m"]);
  });

  it("records every series before the first rule that reads it, in one group evaluated in order", () => {
    // Rules of one group run in order at one timestamp; an alert reading a record written later in
    // the group (or in another group) would judge an evaluation-old value.
    for (const spec of Object.values(examples)) {
      const [group, ...others] = renderRules(spec).groups;
      expect(others).toEqual([]);
      const recorded = new Set<string>();
      const all = new Set((group?.rules ?? []).flatMap((rule) => ("record" in rule ? [rule.record] : [])));
      for (const rule of group?.rules ?? []) {
        for (const name of rule.expr.match(/[a-z_]+:[a-z0-9_:]+/g) ?? []) {
          if (all.has(name)) expect(recorded.has(name), `${name} read before it is recorded`).toBe(true);
        }
        if ("record" in rule) recorded.add(rule.record);
      }
    }
  });

  it("gives each guardrail one alert, each warm latency guardrail a cold-start review, plus SRM and no-data alerts", () => {
    const names = alerts(renderRules(examples["support-bot-model-swap-70b"])).map((rule) => rule.alert);
    expect(names).toEqual([
      "LlmAbGuardrailTtftP95SecondsWarm",
      "LlmAbColdStartTtftP95Seconds",
      "LlmAbGuardrailTpotP95SecondsWarm",
      "LlmAbColdStartTpotP95Seconds",
      "LlmAbGuardrailTtftP99SecondsCold",
      "LlmAbGuardrailErrorRate",
      "LlmAbGuardrailCostPerSessionUsd",
      "LlmAbGuardrailCsatScore",
      "LlmAbTreatmentNoData",
      "LlmAbExperimentMetricsAbsent",
      "LlmAbSampleRatioMismatch",
    ]);
  });

  it.each(renderings)(
    "labels and annotates every alert of $name for routing and for the person paged",
    ({ spec, profile }) => {
      for (const rule of alerts(renderRules(spec, { profile }))) {
        expect(rule.alert).toMatch(/^LlmAb[A-Z][A-Za-z0-9]+$/);
        expect(rule.labels.experiment).toBe(spec.name);
        expect(["pause", "rollback", "review"]).toContain(rule.labels.action);
        expect(rule.labels.severity).toBe(rule.labels.action === "review" ? "warning" : "critical");
        expect(rule.annotations.summary).not.toContain("{{");
        expect(rule.annotations.description).toMatch(/\{\{ \$labels\.experiment \}\}/);
        expect(rule.annotations.runbook_url).toBe(
          `${spec.monitoring.runbookUrl}#${rule.alert.toLowerCase()}`,
        );
      }
    },
  );

  it("keeps each guardrail's action and name as labels, and the treatment's variant from the expression", () => {
    const spec = examples["support-bot-model-swap-70b"];
    const names = guardrailAlertNames(spec);
    spec.metrics.guardrails.forEach((guardrail, index) => {
      const rule = alert(spec, names[index] ?? "");
      expect(rule.labels).toMatchObject({ action: guardrail.action, guardrail: guardrail.name });
      expect(rule.labels.variant).toBeUndefined();
      expect(rule.expr).toContain('variant!="control"');
    });
  });

  it("leaves runbook_url out when the spec names no runbook", () => {
    const spec = specWith("promptDuel", [["monitoring", "runbookUrl"], DELETE]);
    for (const rule of alerts(renderRules(spec))) expect(rule.annotations).not.toHaveProperty("runbook_url");
  });

  it("tells apart two guardrails on the same metric and replica state by their action", () => {
    const spec = specWith("promptDuel", [
      ["metrics", "guardrails", 3],
      { name: "error_rate", max: 0.0005, windows: 4, action: "review" },
    ]);
    expect(guardrailAlertNames(spec)).toEqual([
      "LlmAbGuardrailTtftP95SecondsWarm",
      "LlmAbGuardrailErrorRateRollback",
      "LlmAbGuardrailCostPerSessionUsd",
      "LlmAbGuardrailErrorRateReview",
    ]);
  });

  it("judges an outcome ratio guardrail on its numerator's sum over its denominator's, sampled by denominator events", () => {
    const spec = specWith("modelSwap", [
      ["metrics", "guardrails", 6],
      { name: "handoffs_per_turn", relativeMax: 0.2, minSamples: 300, action: "review" },
    ]);
    const file = renderRules(spec);
    const value = recordings(file).find(
      (rule) => rule.record === "experiment_variant:llmab_outcome_handoffs_per_turn:ratio_rate5m",
    );
    expect(value?.expr).toMatch(
      /llmab_outcome_sum\{[^}]*metric="human_handoffs"\}[\s\S]*\/[\s\S]*metric="turns"/,
    );
    const rule = alerts(file).find((each) => each.alert === "LlmAbGuardrailHandoffsPerTurn");
    expect(rule?.expr).toContain("experiment_variant:llmab_outcome_turns_observations:increase5m");
    // Lower is better for handoffs: the treatment breaches by rising above control.
    expect(rule?.expr).toContain(
      'ratio_rate5m_over_control{experiment="support-bot-model-swap-70b", variant!="control"} > 1.2',
    );
  });

  it("splits the SRM threshold over the treatments, Bonferroni-style", () => {
    const one = examples["support-bot-policy-prompt"];
    const two = specWith("promptDuel", [
      ["variants", "brief"],
      { deployment: "chat-8b", systemPrompt: "Be brief." },
    ]);
    expect(srmCriticalZ(one)).toBeCloseTo(normQuantile(1 - 0.001 / 2), 12);
    expect(srmCriticalZ(two)).toBeCloseTo(normQuantile(1 - 0.001 / 4), 12);
  });

  it.each(renderings)(
    "renders $name as the same bytes every time, every mapping's keys sorted",
    ({ spec, profile }) => {
      const text = rulesYaml(spec, { profile });
      expect(rulesYaml(spec, { profile })).toBe(text);
      const visit = (node: unknown): void => {
        if (Array.isArray(node)) node.forEach(visit);
        else if (node !== null && typeof node === "object") {
          const keys = Object.keys(node);
          expect(keys).toEqual([...keys].sort());
          Object.values(node).forEach(visit);
        }
      };
      const parsed = parse(text);
      visit(parsed);
      expect(parsed).toEqual(JSON.parse(JSON.stringify(renderRules(spec, { profile }))));
    },
  );
});
