/** The admin port in-process: health, readiness, metrics, the bearer token, state changes, Alertmanager. */
import { afterEach, describe, expect, it } from "vitest";
import { json, postJson, RouterHarness, sample, send, testSpec } from "../helpers/router-harness.ts";

const harness = new RouterHarness();
afterEach(() => harness.cleanup());

const TOKEN = "admin-secret-token";
const bearer = { authorization: `Bearer ${TOKEN}` };

/** `adminToken: null` starts the router without a token. */
async function setup(adminToken: string | null = TOKEN) {
  const up = await harness.upstream({});
  const spec = testSpec([up.url]);
  return { spec, ...(await harness.app({ spec, ...(adminToken === null ? {} : { adminToken }) })) };
}

/** An Alertmanager webhook payload (version 4) with the given alerts. */
function webhook(alerts: { status?: string; labels: Record<string, string> }[]) {
  return {
    version: "4",
    groupKey: '{}:{alertname="x"}',
    status: "firing",
    receiver: "llm-ab-router",
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: "http://alertmanager:9093",
    truncatedAlerts: 0,
    alerts: alerts.map((alert, i) => ({
      status: alert.status ?? "firing",
      labels: alert.labels,
      annotations: { summary: "guardrail breached" },
      startsAt: "2025-01-01T00:00:00Z",
      endsAt: "0001-01-01T00:00:00Z",
      generatorURL: "http://prometheus:9090/graph",
      fingerprint: `f${i}`,
    })),
  };
}

describe("open endpoints", () => {
  it("answers /healthz, and /readyz once a control replica is known", async () => {
    const { adminUrl, spec } = await setup();
    expect(json(await send(`${adminUrl}/healthz`))).toEqual({ status: "ok" });
    expect(json(await send(`${adminUrl}/readyz`))).toEqual({ status: "ready", experiment: spec.name });
  });

  it("is not ready, and says why, while the control deployment has no replica", async () => {
    const up = await harness.upstream({});
    const spec = testSpec([up.url], [["deployments", "chat-8b", "endpoints"], undefined]);
    const { adminUrl } = await harness.app({
      spec,
      replicaDns: () => ({ hostname: "chat.svc", port: 8000 }),
      dnsResolver: { resolve4: async () => [], resolve6: async () => [] },
    });
    const answer = await send(`${adminUrl}/readyz`);
    expect(answer.status).toBe(503);
    expect(json(answer)).toMatchObject({
      error: { code: "not_ready", message: expect.stringContaining("no replica of deployment chat-8b") },
    });
  });

  it("is not ready while shutting down", async () => {
    const { adminUrl, ctx } = await setup();
    ctx.draining = true;
    const answer = await send(`${adminUrl}/readyz`);
    expect(answer.status).toBe(503);
    expect(json(answer)).toMatchObject({ error: { message: "not ready: the router is shutting down" } });
  });

  it("serves this router's Prometheus registry on /metrics without a token", async () => {
    const { adminUrl, spec } = await setup();
    const answer = await send(`${adminUrl}/metrics`);
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toContain("text/plain");
    const text = answer.body.toString();
    expect(sample(text, "llmab_experiment_state", { experiment: spec.name, state: "active" })).toBe(1);
    expect(sample(text, "llmab_treatment_fraction", { variant: "treatment" })).toBe(0.1);
  });

  it("answers unknown admin routes with a 404 listing the routes", async () => {
    const { adminUrl } = await setup();
    const answer = await send(`${adminUrl}/admin/ramp`, { method: "POST", headers: bearer });
    expect(answer.status).toBe(404);
    expect(json(answer)).toMatchObject({
      error: { message: expect.stringContaining("POST /admin/rollback") },
    });
  });
});

describe("the bearer token", () => {
  const protectedRoutes = [
    ["POST", "/admin/pause"],
    ["POST", "/admin/resume"],
    ["POST", "/admin/rollback"],
    ["GET", "/admin/state"],
    ["POST", "/alertmanager"],
  ] as const;

  it.each(protectedRoutes)("%s %s without it is a 401 JSON error", async (method, path) => {
    const { adminUrl, ctx } = await setup();
    const answer = await send(`${adminUrl}${path}`, { method });
    expect(answer.status).toBe(401);
    expect(answer.headers["www-authenticate"]).toContain("Bearer");
    expect(json(answer)).toMatchObject({
      error: { code: "unauthorized", message: expect.stringContaining("Bearer") },
    });
    expect(ctx.state.current().state).toBe("active");
  });

  it.each(protectedRoutes)("%s %s with a wrong token is a 401", async (method, path) => {
    const { adminUrl } = await setup();
    const answer = await send(`${adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}x` },
    });
    expect(answer.status).toBe(401);
    expect(json(answer)).toMatchObject({ error: { message: expect.stringContaining("does not match") } });
  });

  it("refuses admin calls, saying how to set a token, when none is configured", async () => {
    const { adminUrl } = await setup(null);
    const answer = await send(`${adminUrl}/admin/pause`, { method: "POST", headers: bearer });
    expect(answer.status).toBe(403);
    expect(json(answer)).toMatchObject({
      error: { message: expect.stringMatching(/LLM_AB_ADMIN_TOKEN.*--admin-token-file/) },
    });
  });
});

describe("pause, resume and rollback", () => {
  it("change the shared state, keep the reason, and latch a rollback until a resume", async () => {
    const { adminUrl, ctx } = await setup();
    const post = (path: string, body?: unknown) =>
      send(`${adminUrl}${path}`, {
        method: "POST",
        headers: bearer,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    expect(json(await post("/admin/pause", { reason: "TTFT regression" }))).toMatchObject({
      state: "paused",
      reason: "TTFT regression",
      actor: "admin",
    });
    expect(json(await post("/admin/rollback"))).toMatchObject({ state: "rolled_back" });
    expect(json(await post("/admin/pause"))).toMatchObject({ state: "rolled_back" });
    expect(json(await send(`${adminUrl}/admin/state`, { headers: bearer }))).toMatchObject({
      state: "rolled_back",
      rollout: { mode: "ab", treatmentPercent: 10 },
    });
    expect(json(await post("/admin/resume"))).toMatchObject({ state: "active" });
    expect(ctx.state.current().state).toBe("active");
    const metrics = await ctx.metrics.metrics();
    expect(sample(metrics, "llmab_experiment_state", { state: "active" })).toBe(1);
    expect(sample(metrics, "llmab_treatment_fraction", { variant: "treatment" })).toBe(0.1);
  });

  it("sets the state gauge and a zero treatment fraction while paused", async () => {
    const { adminUrl, ctx } = await setup();
    await send(`${adminUrl}/admin/pause`, { method: "POST", headers: bearer });
    const metrics = await ctx.metrics.metrics();
    expect(sample(metrics, "llmab_experiment_state", { state: "paused" })).toBe(1);
    expect(sample(metrics, "llmab_treatment_fraction", { variant: "treatment" })).toBe(0);
  });

  it("refuses a body with unknown fields, naming them", async () => {
    const { adminUrl } = await setup();
    const answer = await postJson(`${adminUrl}/admin/pause`, { why: "x" }, bearer);
    expect(answer.status).toBe(400);
    expect(json(answer)).toMatchObject({ error: { message: expect.stringContaining("why") } });
  });
});

describe("the Alertmanager webhook", () => {
  const cases: {
    name: string;
    alerts: { status?: string; labels: Record<string, string> }[];
    state: string;
    effects: string[];
  }[] = [
    {
      name: "pauses on a firing pause alert of this experiment",
      alerts: [
        { labels: { alertname: "TtftP95", experiment: "support-bot-policy-prompt", action: "pause" } },
      ],
      state: "paused",
      effects: ["applied"],
    },
    {
      name: "rolls back when a rollback alert fires with a pause alert",
      alerts: [
        { labels: { alertname: "TtftP95", experiment: "support-bot-policy-prompt", action: "pause" } },
        { labels: { alertname: "ErrorRate", experiment: "support-bot-policy-prompt", action: "rollback" } },
      ],
      state: "rolled_back",
      effects: ["applied", "applied"],
    },
    {
      name: "only logs a review alert",
      alerts: [{ labels: { alertname: "Cost", experiment: "support-bot-policy-prompt", action: "review" } }],
      state: "active",
      effects: ["logged"],
    },
    {
      name: "ignores alerts of other experiments",
      alerts: [{ labels: { alertname: "TtftP95", experiment: "another-experiment", action: "rollback" } }],
      state: "active",
      effects: ["ignored"],
    },
    {
      name: "ignores resolved alerts",
      alerts: [
        {
          status: "resolved",
          labels: { alertname: "TtftP95", experiment: "support-bot-policy-prompt", action: "pause" },
        },
      ],
      state: "active",
      effects: ["ignored"],
    },
    {
      name: "ignores an alert without a known action",
      alerts: [{ labels: { alertname: "X", experiment: "support-bot-policy-prompt" } }],
      state: "active",
      effects: ["ignored"],
    },
  ];

  it.each(cases)("$name", async ({ alerts, state, effects }) => {
    const { adminUrl, ctx } = await setup();
    const answer = await postJson(`${adminUrl}/alertmanager`, webhook(alerts), bearer);
    expect(answer.status).toBe(200);
    const body = json(answer) as { state: string; alerts: { effect: string }[] };
    expect(body.state).toBe(state);
    expect(body.alerts.map((alert) => alert.effect)).toEqual(effects);
    expect(ctx.state.current().state).toBe(state);
  });

  it("does not resume a paused experiment when the alert resolves", async () => {
    const { adminUrl, ctx } = await setup();
    const labels = { alertname: "TtftP95", experiment: "support-bot-policy-prompt", action: "pause" };
    await postJson(`${adminUrl}/alertmanager`, webhook([{ labels }]), bearer);
    await postJson(`${adminUrl}/alertmanager`, webhook([{ status: "resolved", labels }]), bearer);
    expect(ctx.state.current()).toMatchObject({ state: "paused", actor: "alertmanager" });
  });

  it.each([
    ["a payload without alerts", { version: "4" }, "alerts"],
    ["another payload version", { ...webhook([]), version: "3" }, "version 3 is not supported"],
  ])("refuses %s with a 400 naming the problem", async (_name, payload, says) => {
    const { adminUrl } = await setup();
    const answer = await postJson(`${adminUrl}/alertmanager`, payload, bearer);
    expect(answer.status).toBe(400);
    expect(json(answer)).toMatchObject({ error: { message: expect.stringContaining(says) } });
  });
});
