/**
 * The rule file of a spec with several treatments and of a bandit spec, as data and as YAML (their
 * behaviour under promtool is in promtool-abn.test.ts).
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { METRICS_ABSENT_ALERT, TREATMENT_NO_DATA_ALERT } from "../../monitoring/alert-rules.ts";
import { TREATMENT_FRACTION_RECORD } from "../../monitoring/record-names.ts";
import { type AlertingRule, isRecordingRule, type RuleFile } from "../../monitoring/rule-file.ts";
import { renderRules, rulesYaml } from "../../monitoring/rules.ts";
import { NO_SRM_IN_BANDIT, SRM_ALERT } from "../../monitoring/srm-rules.ts";
import { parseSpec } from "../../spec/load.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { exampleInput, type Patch, patched } from "../spec/spec-fixtures.ts";

function spec(...patches: Patch[]): ExperimentSpec {
  return parseSpec(patched(exampleInput("promptDuel"), patches), "monitoring test spec");
}

const BANDIT: Patch = [["rollout"], { mode: "bandit", bandit: { reward: "resolution_rate" } }];
const SECOND_TREATMENT: Patch = [["variants", "brief"], { deployment: "chat-8b", systemPrompt: "Be brief." }];

const ab = spec();
const threeArms = spec(SECOND_TREATMENT);
const bandit = spec(BANDIT);
const threeArmBandit = spec(BANDIT, SECOND_TREATMENT);

function records(file: RuleFile): string[] {
  return file.groups.flatMap((group) => group.rules.filter(isRecordingRule).map((rule) => rule.record));
}

function alerts(file: RuleFile): AlertingRule[] {
  return file.groups.flatMap((group) =>
    group.rules.filter((rule): rule is AlertingRule => !isRecordingRule(rule)),
  );
}

const guardrailAlerts = (file: RuleFile) =>
  alerts(file).filter(
    (rule) => rule.alert.startsWith("LlmAbGuardrail") || rule.alert.startsWith("LlmAbColdStart"),
  );

describe("rules of a spec with several treatments", () => {
  it("judges all treatments in one rule per guardrail, grouped by variant, so each gets its own alert", () => {
    for (const rule of guardrailAlerts(renderRules(threeArms))) {
      expect(rule.expr, rule.alert).toContain('variant!="control"');
      // The treatment's value is matched to its own ratio and sample size by variant.
      expect(rule.expr, rule.alert).toMatch(/and on \(experiment, variant(, replica_state)?\)/);
      expect(rule.labels.variant, rule.alert).toBeUndefined();
    }
  });

  it.each([
    ["pause", "Action: pause — the router pauses the whole experiment: every treatment, not only this one"],
    [
      "rollback",
      "Action: rollback — the router rolls back the whole experiment: every treatment, not only this one",
    ],
  ])("says that a %s stops every treatment, not only the one that breached", (action, text) => {
    const rule = guardrailAlerts(renderRules(threeArms)).find((each) => each.labels.action === action);
    expect(rule?.annotations.description).toContain(text);
    const two = guardrailAlerts(renderRules(ab)).find((each) => each.labels.action === action);
    expect(two?.annotations.description).toContain("the router sends this treatment no traffic");
  });

  it("keeps the SRM alert, split over the treatments", () => {
    const srm = alerts(renderRules(threeArms)).find((rule) => rule.alert === SRM_ALERT);
    expect(srm?.annotations.description).toContain("split over 2 treatments");
  });
});

describe("rules of a bandit spec", () => {
  it.each([
    ["two arms", bandit],
    ["three arms", threeArmBandit],
  ])("with %s record nothing about the sample ratio and have no SRM alert", (_arms, each) => {
    const file = renderRules(each);
    expect(records(file).filter((name) => name.includes("assignments:") && name.includes("1h"))).toEqual([]);
    expect(alerts(file).map((rule) => rule.alert)).not.toContain(SRM_ALERT);
    expect(rulesYaml(each)).not.toContain("srm");
  });

  it("keeps every guardrail alert exactly as mode ab renders it", () => {
    expect(guardrailAlerts(renderRules(bandit))).toEqual(guardrailAlerts(renderRules(ab)));
    expect(guardrailAlerts(renderRules(threeArmBandit))).toEqual(guardrailAlerts(renderRules(threeArms)));
    const names = alerts(renderRules(bandit)).map((rule) => rule.alert);
    expect(names).toEqual(expect.arrayContaining([TREATMENT_NO_DATA_ALERT, METRICS_ABSENT_ALERT]));
  });

  it("expects treatment requests from the bandit's allocation, which the router reports as the treatment fraction", () => {
    const noData = (each: ExperimentSpec) =>
      alerts(renderRules(each)).find((rule) => rule.alert === TREATMENT_NO_DATA_ALERT);
    expect(records(renderRules(bandit))).toContain(TREATMENT_FRACTION_RECORD);
    expect(noData(bandit)?.expr).toBe(noData(ab)?.expr);
    expect(noData(bandit)?.annotations.description).toContain(
      "has a share of new units in the bandit's allocation",
    );
    expect(noData(ab)?.annotations.description).toContain("has a configured share of new units");
  });

  it("says at the top of the YAML file why it has no SRM rules, and mode ab's file has no such comment", () => {
    const comments = (text: string) => text.split("\n").filter((line) => line.startsWith("#"));
    const text = rulesYaml(bandit);
    expect(text.startsWith("# No sample-ratio-mismatch check: in mode bandit")).toBe(true);
    expect(
      comments(text)
        .map((line) => line.replace(/^# /, ""))
        .join(" "),
    ).toBe(NO_SRM_IN_BANDIT);
    for (const line of comments(text)) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(parse(text)).toEqual(JSON.parse(JSON.stringify(renderRules(bandit))));
    expect(comments(rulesYaml(ab))).toEqual([]);
  });
});
