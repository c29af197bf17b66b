/**
 * The dashboard against the real thing: a real Prometheus (Debian `prometheus`) loads the
 * experiment's rules (local profile) and scrapes a real router's admin port while traffic flows
 * through the router to scripted upstreams, warm and cold, with errors on the treatment (so a
 * guardrail alert goes pending and fires) and outcome events. Then every panel query, with its
 * variables substituted as Grafana would, must return data.
 *
 * The engine panels read vLLM's own metrics: no vLLM runs on this machine, so the scripted
 * upstreams expose vLLM v0.11's engine metrics from what they really did
 * (test/helpers/engine-metrics.ts) and Prometheus scrapes them as it would scrape vLLM pods.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { renderDashboard } from "../../monitoring/dashboard.ts";
import { rulesYaml } from "../../monitoring/rules.ts";
import { type RunningRouter, startRouter } from "../../router/main.ts";
import { parseSpec } from "../../spec/load.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { startPrometheus, type TestPrometheus } from "../helpers/prometheus.ts";
import { type ScriptedUpstream, startScriptedUpstream } from "../helpers/scripted-upstream.ts";
import { exampleInput, patched } from "../spec/spec-fixtures.ts";
import { dashboardQueries, type PanelQuery, substituteVariables } from "./dashboard-queries.ts";

/** A replica idle for more than a second is cold again: each burst of traffic starts cold. */
const warmup = { requests: 0, seconds: 0, idleSeconds: 1 };
/** Grafana's $__rate_interval for a 1 s scrape interval and a short time range. */
const RATE_INTERVAL = "15s";

let dir: string;
let control: ScriptedUpstream;
let treatment: ScriptedUpstream;
let router: RunningRouter;
let prometheus: TestPrometheus;
let spec: ExperimentSpec;
let traffic: Promise<void> | undefined;
let flowing = true;

function experimentSpec(controlUrl: string, treatmentUrl: string): unknown {
  const base = exampleInput() as { deployments: Record<string, object> };
  const guarded = { windows: 2, minSamples: 5 };
  return patched(exampleInput(), [
    [["rollout", "treatmentPercent"], 50],
    [["deployments", "chat-8b", "endpoints"], [controlUrl]],
    [["deployments", "chat-8b", "warmup"], warmup],
    [["deployments", "chat-alt"], { ...base.deployments["chat-8b"], endpoints: [treatmentUrl], warmup }],
    [["variants", "treatment", "deployment"], "chat-alt"],
    [
      ["metrics", "guardrails"],
      [
        {
          name: "ttft_p95_seconds",
          replicaState: "warm",
          max: 1.5,
          relativeMax: 0.1,
          action: "pause",
          ...guarded,
        },
        { name: "error_rate", max: 0.001, action: "rollback", ...guarded },
        { name: "cost_per_session_usd", relativeMax: 0.1, action: "review", ...guarded },
        { name: "resolution_rate", min: 0.1, relativeMax: 0.2, action: "review", ...guarded },
      ],
    ],
  ]);
}

async function post(path: string, body: object, unit: string): Promise<void> {
  const response = await fetch(`${router.proxyUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-llm-ab-conversation": unit },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
}

/** Bursts of new conversations, a second and a half apart, until the test is done. */
async function flow(): Promise<void> {
  for (let burst = 0; flowing; burst++) {
    for (let turn = 0; turn < 8; turn++) {
      const unit = `conversation-${burst}-${turn}`;
      await post(
        "/v1/chat/completions",
        { model: "chat", stream: true, messages: [{ role: "user", content: "Where is my order?" }] },
        unit,
      );
      await post("/v1/outcomes", { metric: "resolution_rate", value: turn % 3 === 0 ? 0 : 1 }, unit);
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "llm-ab-dashboard-it-"));
  const answer = { tokens: ["Your", " order", " ships", " today", "."], delaysMs: [5, 3, 3, 3, 3] };
  // The engines report the served model name the engine panels select on.
  const probe = parseSpec(experimentSpec("http://127.0.0.1:1", "http://127.0.0.1:2"), "probe");
  const served = (name: string) =>
    probe.deployments[name]?.servedModelName ?? probe.deployments[name]?.model ?? name;
  control = await startScriptedUpstream(answer, { engine: { modelName: served("chat-8b") } });
  let calls = 0;
  // Every fourth treatment call fails: its error ratio breaches the guardrail, so an alert fires.
  treatment = await startScriptedUpstream(() => (calls++ % 4 === 0 ? { status: 500 } : answer), {
    engine: { modelName: served("chat-alt") },
  });
  spec = parseSpec(experimentSpec(control.url, treatment.url), "dashboard integration spec");
  const specPath = join(dir, "spec.yaml");
  writeFileSync(specPath, stringify(experimentSpec(control.url, treatment.url)));
  router = await startRouter({
    specPath,
    port: 0,
    adminPort: 0,
    watch: false,
    logger: pino({ level: "silent" }),
  });
  const admin = new URL(router.adminUrl);
  prometheus = await startPrometheus(
    stringify({
      global: { scrape_interval: "1s", evaluation_interval: "2s" },
      rule_files: ["rules.yaml"],
      scrape_configs: [
        { job_name: "llm-ab-router", static_configs: [{ targets: [admin.host] }] },
        {
          job_name: "vllm",
          static_configs: [{ targets: [new URL(control.url).host, new URL(treatment.url).host] }],
        },
      ],
    }),
    { "rules.yaml": rulesYaml(spec, { profile: "local" }) },
  );
  traffic = flow();
}, 60_000);

afterAll(async () => {
  flowing = false;
  await traffic;
  await prometheus?.stop();
  await router?.stop();
  await control?.close();
  await treatment?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** The panel queries that come back empty (or fail) right now. */
async function emptyQueries(queries: readonly PanelQuery[]): Promise<string[]> {
  const empty: string[] = [];
  for (const { where, expr } of queries) {
    const result = await prometheus.query(substituteVariables(expr, spec, RATE_INTERVAL));
    if (!result.ok) empty.push(`${where}: error ${result.error}`);
    else if (result.series.length === 0) empty.push(`${where}: no data for ${expr}`);
  }
  return empty;
}

describe("the dashboard against Prometheus scraping a router under traffic", () => {
  it("gets data for every panel query: router, rules and engine", async () => {
    const checked = dashboardQueries(renderDashboard(spec, { profile: "local" }));
    expect(checked.filter(({ expr }) => expr.includes("vllm:")).length).toBe(10);
    expect(checked.length).toBeGreaterThan(50);
    // Recorded series need a few evaluations, the alert its `for:` (4 s): poll, bounded.
    let empty = await emptyQueries(checked);
    for (let attempt = 0; attempt < 45 && empty.length > 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      empty = await emptyQueries(checked);
    }
    expect(empty).toEqual([]);
  }, 150_000);

  it("shows the breached guardrail among the firing alerts, with its action", async () => {
    const table = dashboardQueries(renderDashboard(spec, { profile: "local" })).find(
      ({ where }) => where === "Guardrail alerts",
    );
    const result = await prometheus.query(substituteVariables(table?.expr ?? "", spec, RATE_INTERVAL));
    expect(result.ok && result.series.map((sample) => sample.metric)).toContainEqual(
      expect.objectContaining({
        alertname: "LlmAbGuardrailErrorRate",
        action: "rollback",
        variant: "treatment",
      }),
    );
  });
});
