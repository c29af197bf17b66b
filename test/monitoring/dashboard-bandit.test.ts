/**
 * The dashboard of a bandit spec: a "Bandit" row over the router's bandit metrics, which mode ab
 * does not get, and no sample-ratio check.
 */
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { renderDashboard } from "../../monitoring/dashboard.ts";
import { banditMetrics, rewardMatches } from "../../monitoring/dashboards/bandit-metrics.ts";
import { renderRules } from "../../monitoring/rules.ts";
import { NO_SRM_IN_BANDIT } from "../../monitoring/srm-rules.ts";
import type { RewardMatch } from "../../router/bandit/bandit.ts";
import { banditReporter } from "../../router/bandit/metrics.ts";
import { parseSpec } from "../../spec/load.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { exampleInput, type Patch, patched } from "../spec/spec-fixtures.ts";
import { panel, panels, rowPanels } from "./dashboard-panels.ts";
import { dashboardQueries, promqlErrors, selectorsOf, substituteVariables } from "./dashboard-queries.ts";

function spec(...patches: Patch[]): ExperimentSpec {
  return parseSpec(patched(exampleInput("promptDuel"), patches), "dashboard test spec");
}

const banditOn = (reward: string): Patch => [["rollout"], { mode: "bandit", bandit: { reward } }];
// The dashboard's list of `matched` values is the router's, both ways (a type error otherwise).
const routerMatchesListed: Exclude<RewardMatch, (typeof rewardMatches)[number]> extends never ? true : false =
  true;
const listedMatchesRouter: readonly RewardMatch[] = rewardMatches;

const ab = spec();
const bandit = spec(banditOn("resolution_rate"));

/**
 * Series name → label names, from the exposition text of a real registry after the router's bandit
 * reporter saw one of everything: an allocation, a reward of each match, an update.
 */
async function banditExposedLabels(): Promise<Map<string, Set<string>>> {
  const registry = new Registry();
  const reporter = banditReporter(registry, "e");
  reporter.allocation({
    version: 1,
    probabilities: { control: 0.5, treatment: 0.5 },
    rewards: 200,
    updatedAt: 1,
    posteriorMeans: { control: 0.6, treatment: 0.62 },
    regret: 3,
  });
  for (const match of rewardMatches) reporter.reward("treatment", match);
  reporter.update();
  const labels = new Map<string, Set<string>>();
  for (const line of (await registry.metrics()).split("\n")) {
    const found = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!found?.[1]) continue;
    const names = [...(found[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)].map((m) => m[1] ?? "");
    labels.set(found[1], new Set([...(labels.get(found[1]) ?? []), ...names]));
  }
  return labels;
}

it("lists exactly the router's reward matches", () => {
  expect(routerMatchesListed).toBe(true);
  expect(listedMatchesRouter).toContain("paused");
});

describe("the dashboard of a bandit spec", () => {
  const profiles = ["production", "local"] as const;

  it.each([
    [
      "has a",
      "mode bandit",
      bandit,
      [
        "Allocation per arm",
        "Posterior mean reward per arm",
        "Cumulative regret",
        "Rewards per second by match",
        "Posterior updates per minute",
      ],
    ],
    ["has no", "mode ab", ab, undefined],
    ["has no", "the model-swap example", parseSpec(exampleInput("modelSwap")), undefined],
  ] as const)("%s Bandit row in %s", (_has, _which, each, titles) => {
    expect(rowPanels(renderDashboard(each), "Bandit")?.map((found) => found.title)).toEqual(titles);
  });

  it.each(profiles)(
    "renders every query (%s profile) as PromQL that parses once variables are substituted",
    (profile) => {
      for (const { where, expr } of dashboardQueries(renderDashboard(bandit, { profile }))) {
        expect(promqlErrors(substituteVariables(expr, bandit)), `${where}: ${expr}`).toEqual([]);
      }
    },
  );

  it.each([
    ["Allocation per arm", "llmab_bandit_allocation"],
    ["Posterior mean reward per arm", "llmab_bandit_posterior_mean"],
    ["Cumulative regret", "llmab_bandit_regret"],
    ["Rewards per second by match", "llmab_bandit_rewards_total"],
    ["Posterior updates per minute", "llmab_bandit_updates_total"],
  ])("reads %s from %s, by the name and labels a real router's bandit exports", async (title, name) => {
    const exposed = await banditExposedLabels();
    expect([...(exposed.get(name) ?? [])].sort()).toEqual(
      [...(Object.values(banditMetrics).find((metric) => metric.name === name)?.labels ?? [])].sort(),
    );
    const found = rowPanels(renderDashboard(bandit), "Bandit")?.find((each) => each.title === title);
    const exprs = (found?.targets ?? []).map((target) => substituteVariables(target.expr, bandit));
    expect(exprs).not.toEqual([]);
    for (const expr of exprs) {
      for (const selector of selectorsOf(expr)) {
        expect(selector.metric).toBe(name);
        for (const label of selector.labels)
          expect([...(exposed.get(name) ?? [])], `${title}: ${label}`).toContain(label);
      }
    }
  });

  it("stacks the allocation per arm between 0 and 1, over every arm whatever the variant picker says", () => {
    const allocation = panel(renderDashboard(bandit), "Allocation per arm");
    expect(allocation.fieldConfig?.defaults).toMatchObject({
      unit: "percentunit",
      min: 0,
      max: 1,
      custom: { stacking: { mode: "normal" } },
    });
    expect(allocation.targets?.[0]?.expr).toBe(
      'avg by (variant) (llmab_bandit_allocation{experiment="$experiment"})',
    );
    expect(allocation.description).toContain("floor of 0.05");
  });

  it.each([
    ["a binary reward as a rate", "resolution_rate", "percentunit", "Beta–Bernoulli"],
    ["a continuous reward as a number", "response_tokens", "short", "normal model"],
  ])("shows posterior means of %s", (_what, reward, unit, model) => {
    const withSecondary = spec(
      [["metrics", "secondary"], [{ name: "response_tokens", kind: "continuous", direction: "decrease" }]],
      banditOn(reward),
    );
    const posterior = panel(renderDashboard(withSecondary), "Posterior mean reward per arm");
    expect(posterior.fieldConfig?.defaults.unit).toBe(unit);
    expect(posterior.description).toContain(reward);
    expect(posterior.description).toContain(model);
  });

  it("has no sample-ratio panel, reads no SRM series nor the configured split, and says why", () => {
    const dashboard = renderDashboard(bandit);
    const titles = panels(dashboard).map((each) => each.title);
    expect(titles.filter((title) => title.toLowerCase().includes("sample ratio mismatch"))).toEqual([]);
    for (const { where, expr } of dashboardQueries(dashboard)) {
      expect(expr, where).not.toContain("srm_zscore");
      expect(expr, where).not.toContain("llmab_treatment_fraction");
    }
    const split = rowPanels(dashboard, "Traffic split (mode bandit: no sample-ratio check)");
    expect(split?.map((each) => each.title)).toEqual(["Allocation in force vs observed split"]);
    expect(split?.[0]?.description).toContain(NO_SRM_IN_BANDIT);
  });

  it.each(profiles)("reads (%s profile) only recorded series that the bandit rules record", (profile) => {
    const recorded = new Set(
      renderRules(bandit, { profile }).groups.flatMap((group) =>
        group.rules.flatMap((rule) => ("record" in rule ? [rule.record] : [])),
      ),
    );
    const read = dashboardQueries(renderDashboard(bandit, { profile })).flatMap(({ where, expr }) =>
      selectorsOf(substituteVariables(expr, bandit))
        .filter(({ metric }) => metric.includes(":") && !metric.startsWith("vllm:"))
        .map(({ metric }) => [where, metric] as const),
    );
    expect(read.length).toBeGreaterThan(bandit.metrics.guardrails.length * 2);
    for (const [where, metric] of read) expect(recorded, `${where}: ${metric}`).toContain(metric);
  });

  it("numbers panels from 1 without gaps and keeps every panel inside the 24-column grid", () => {
    const all = renderDashboard(bandit).panels as { id: number; gridPos: { x: number; w: number } }[];
    expect(all.map((each) => each.id)).toEqual(all.map((_, index) => index + 1));
    for (const { gridPos } of all) expect(gridPos.x + gridPos.w).toBeLessThanOrEqual(24);
  });
});
