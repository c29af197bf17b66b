import { describe, expect, it } from "vitest";
import { dashboardJson, dashboardUid, renderDashboard } from "../../monitoring/dashboard.ts";
import { vllmMetrics } from "../../monitoring/dashboards/vllm-metrics.ts";
import { renderRules } from "../../monitoring/rules.ts";
import { routerMetricNames } from "../../spec/guardrail-metrics.ts";
import { loadSpecFile, parseSpec } from "../../spec/load.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { exampleInput, examplePaths, patched } from "../spec/spec-fixtures.ts";
import {
  dashboardQueries,
  promqlErrors,
  selectorsOf,
  substituteVariables,
  variableReferences,
} from "./dashboard-queries.ts";
import { routerExposedLabels } from "./router-exposition.ts";

const examples = Object.entries(examplePaths) as [string, string][];
const profiles = ["production", "local"] as const;
const cases = examples.flatMap(([name, path]) => profiles.map((profile) => [name, profile, path] as const));

async function example(path: string): Promise<ExperimentSpec> {
  return await loadSpecFile(path);
}

/** Every object's keys, in the order the JSON text writes them (JSON.parse would reorder integer keys). */
function keyOrders(text: string): string[][] {
  const orders: string[][] = [];
  const stack: ({ keys: string[] } | null)[] = [];
  const token = /"(?:[^"\\]|\\.)*"|[{}[\]:]/g;
  let previous: string | undefined;
  for (const match of text.matchAll(token)) {
    const t = match[0];
    if (t === "{") stack.push({ keys: [] });
    else if (t === "[") stack.push(null);
    else if (t === "}" || t === "]") {
      const top = stack.pop();
      if (top) orders.push(top.keys);
    } else if (t === ":" && previous?.startsWith('"'))
      stack.at(-1)?.keys.push(JSON.parse(previous) as string);
    previous = t;
  }
  return orders;
}

describe("the experiment dashboard", () => {
  it.each(cases)(
    "renders %s (%s profile) with every panel query parsing as PromQL once variables are substituted",
    async (_name, profile, path) => {
      const spec = await example(path);
      const queries = dashboardQueries(renderDashboard(spec, { profile }));
      expect(queries.length).toBeGreaterThan(40);
      for (const { where, expr } of queries) {
        for (const name of variableReferences(expr)) {
          expect(["experiment", "variant", "__rate_interval"], `${where}: ${expr}`).toContain(name);
        }
        const substituted = substituteVariables(expr, spec);
        expect(variableReferences(substituted), where).toEqual([]);
        expect(promqlErrors(substituted), `${where}: ${substituted}`).toEqual([]);
      }
    },
  );

  it.each(examples)(
    "renders %s to byte-identical JSON every time, from the file or from an equal object",
    async (name, path) => {
      const fromFile = await example(path);
      const fromObject = parseSpec(exampleInput(name as keyof typeof examplePaths));
      const text = dashboardJson(fromFile);
      expect(dashboardJson(fromFile)).toBe(text);
      expect(dashboardJson(fromObject)).toBe(text);
      expect(text.endsWith("}\n")).toBe(true);
    },
  );

  it.each(examples)("writes %s with the keys of every object sorted", async (_name, path) => {
    const text = dashboardJson(await example(path), { profile: "local" });
    const orders = keyOrders(text);
    expect(orders.length).toBeGreaterThan(100);
    for (const keys of orders) expect(keys).toEqual([...keys].sort());
  });

  it("returns plain data: the JSON text is exactly the rendered object with its keys sorted", async () => {
    const spec = await example(examplePaths.promptDuel);
    const model = renderDashboard(spec);
    expect(JSON.parse(dashboardJson(spec))).toEqual(model);
    expect(JSON.stringify(model)).not.toContain("_implementsDataqueryVariant");
  });

  it("numbers panels from 1 without gaps and keeps every panel inside the 24-column grid", async () => {
    const panels = renderDashboard(await example(examplePaths.modelSwap)).panels as {
      id: number;
      gridPos: { x: number; w: number; h: number };
    }[];
    expect(panels.map((panel) => panel.id)).toEqual(panels.map((_, index) => index + 1));
    for (const { gridPos } of panels) {
      expect(gridPos.x + gridPos.w).toBeLessThanOrEqual(24);
      expect(gridPos.h).toBeGreaterThan(0);
    }
  });

  it("selects router metrics only by names and labels the router really exports", async () => {
    const exposed = await routerExposedLabels();
    for (const [, path] of examples) {
      const spec = await example(path);
      for (const { where, expr } of dashboardQueries(renderDashboard(spec))) {
        for (const { metric, labels } of selectorsOf(substituteVariables(expr, spec))) {
          if (!metric.startsWith("llmab_")) continue;
          const base = metric.replace(/_(bucket|sum|count)$/, "");
          expect(routerMetricNames, `${where}: ${metric}`).toContain(
            routerMetricNames.includes(metric as never) ? metric : base,
          );
          const known = exposed.get(metric);
          expect(known, `${where}: the router exposes no ${metric}`).toBeDefined();
          for (const label of labels)
            expect([...(known ?? [])], `${where}: ${metric}{${label}}`).toContain(label);
        }
      }
    }
  });

  it.each(cases)(
    "reads in %s (%s profile) only recorded series that the rules of that profile record",
    async (_name, profile, path) => {
      const spec = await example(path);
      const recorded = new Set(
        renderRules(spec, { profile }).groups.flatMap((group) =>
          group.rules.flatMap((rule) => ("record" in rule ? [rule.record] : [])),
        ),
      );
      const read = dashboardQueries(renderDashboard(spec, { profile })).flatMap(({ where, expr }) =>
        selectorsOf(substituteVariables(expr, spec))
          .filter(({ metric }) => metric.includes(":") && !metric.startsWith("vllm:"))
          .map(({ metric }) => [where, metric] as const),
      );
      expect(read.length).toBeGreaterThan(spec.metrics.guardrails.length * 2);
      for (const [where, metric] of read) expect(recorded, `${where}: ${metric}`).toContain(metric);
    },
  );

  it("reads the engines through vLLM v0.11 metric names, selected by the served model name", async () => {
    const spec = await example(examplePaths.promptDuel);
    const names = new Set(Object.values(vllmMetrics));
    const engine = dashboardQueries(renderDashboard(spec)).filter(({ expr }) => expr.includes("vllm:"));
    expect(engine.map(({ where }) => where)).toEqual(
      expect.arrayContaining([
        "Queue depth",
        "Running requests",
        "KV-cache usage",
        "Prefix-cache hit rate",
        "Engine time to first token",
        "Engine inter-token latency",
      ]),
    );
    for (const { expr } of engine) {
      for (const { metric, labels } of selectorsOf(expr)) {
        expect(names).toContain(metric.replace(/_bucket$/, ""));
        expect(labels).toEqual(["model_name"]);
      }
      expect(expr).toContain('model_name="meta-llama/Llama-3.1-8B-Instruct"');
    }
  });

  it("matches several served model names with an escaped regex that still parses", () => {
    const base = exampleInput("promptDuel") as { deployments: Record<string, object> };
    const spec = parseSpec(
      patched(exampleInput("promptDuel"), [
        [["deployments", "chat-v2"], { ...base.deployments["chat-8b"], servedModelName: "chat.v2" }],
        [["variants", "treatment", "deployment"], "chat-v2"],
      ]),
    );
    const engine = dashboardQueries(renderDashboard(spec)).filter(({ expr }) => expr.includes("vllm:"));
    for (const { expr } of engine) {
      expect(expr).toContain(String.raw`model_name=~"chat\\.v2|meta-llama/Llama-3\\.1-8B-Instruct"`);
      expect(promqlErrors(substituteVariables(expr, spec))).toEqual([]);
    }
  });

  it("offers the datasource, experiment and variant variables, with the spec's variants control first", async () => {
    const spec = await example(examplePaths.modelSwap);
    const variables = (renderDashboard(spec).templating as { list: Record<string, unknown>[] }).list;
    expect(variables.map(({ name, type }) => [name, type])).toEqual([
      ["datasource", "datasource"],
      ["experiment", "custom"],
      ["variant", "custom"],
    ]);
    expect(variables[0]?.query).toBe("prometheus");
    expect(variables[1]?.query).toBe("support-bot-model-swap-70b");
    expect(variables[2]).toMatchObject({ query: "control,llama-70b", multi: true, includeAll: true });
  });
});

describe("dashboard uids", () => {
  it.each([
    ["support-bot-policy-prompt", "llm-ab-support-bot-policy-prompt"],
    ["support-bot-model-swap-70b", "llm-ab-support-bot-model-swap-70b"],
    ["a", "llm-ab-a"],
    ["x".repeat(33), `llm-ab-${"x".repeat(33)}`],
  ])("keeps the readable form for %s when it fits", (name, uid) => {
    expect(dashboardUid(name)).toBe(uid);
  });

  it("shortens long names to at most 40 characters and keeps names that share a prefix apart", () => {
    const long = `${"checkout-recommendation-ranking"}-ab-test-2025-q3`;
    const sibling = `${"checkout-recommendation-ranking"}-ab-test-2025-q4`;
    for (const name of [long, sibling, "y".repeat(34), "z".repeat(50)]) {
      const uid = dashboardUid(name);
      expect(uid.length).toBeLessThanOrEqual(40);
      expect(uid).toMatch(/^[a-z0-9_-]+$/);
      expect(dashboardUid(name)).toBe(uid);
    }
    expect(dashboardUid(long)).not.toBe(dashboardUid(sibling));
  });

  it("puts the uid in the rendered dashboard", async () => {
    const spec = await example(examplePaths.modelSwap);
    expect(renderDashboard(spec).uid).toBe("llm-ab-support-bot-model-swap-70b");
    expect(renderDashboard(spec, { profile: "local" }).uid).toBe("llm-ab-support-bot-model-swap-70b");
  });
});
