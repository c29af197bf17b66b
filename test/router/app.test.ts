/**
 * The proxy port in-process: a RouterContext behind `createApp`, scripted upstreams on localhost, a
 * memory store and a record sink that keeps its records.
 */
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { ExposureRecord } from "../../router/records.ts";
import {
  chatBody,
  chatTurn,
  eventually,
  json,
  memoryRecords,
  postJson,
  RouterHarness,
  sample,
  send,
  systemPromptOf,
  testSpec,
  unitsOf,
} from "../helpers/router-harness.ts";

const harness = new RouterHarness();
afterEach(() => harness.cleanup());

const half: [readonly (string | number)[], unknown] = [["rollout", "treatmentPercent"], 50];

async function setup(...patches: [readonly (string | number)[], unknown][]) {
  const up = await harness.upstream({ tokens: ["Hi", " there"] });
  const spec = testSpec([up.url], half, ...patches);
  const sink = memoryRecords();
  const app = await harness.app({ spec, records: sink });
  return { up, spec, sink, ...app };
}

describe("proxying turns", () => {
  it("serves every turn of a unit from its assigned variant and names it in the response headers", async () => {
    const { up, spec, proxyUrl } = await setup();
    const [control] = unitsOf(spec, "control", 1);
    const [treatment] = unitsOf(spec, "treatment", 1);
    for (const [unit, variant] of [
      [control, "control"],
      [treatment, "treatment"],
    ] as const) {
      for (let turn = 0; turn < 3; turn++) {
        const answer = await chatTurn(proxyUrl, unit, turn % 2 === 0);
        expect(answer.status).toBe(200);
        expect(answer.headers["x-llm-ab-experiment"]).toBe(spec.name);
        expect(answer.headers["x-llm-ab-variant"]).toBe(variant);
        expect(answer.headers["x-llm-ab-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
      }
    }
    // Each variant's system prompt replaced the application's, with the variant's model and params.
    const systemPrompts = up.requests.map(systemPromptOf);
    expect(systemPrompts.slice(0, 3)).toEqual(Array(3).fill(spec.variants.control?.systemPrompt));
    expect(systemPrompts.slice(3)).toEqual(Array(3).fill(spec.variants.treatment?.systemPrompt));
    expect(up.requests[0]?.body).toMatchObject({ model: spec.variants.control?.model, temperature: 0 });
  });

  it("streams the upstream's bytes through unchanged", async () => {
    const { up, proxyUrl } = await setup();
    const answer = await chatTurn(proxyUrl, "u-stream", true);
    expect(answer.headers["content-type"]).toBe("text/event-stream");
    expect(answer.body.equals(Buffer.concat(up.requests[0]?.sent ?? []))).toBe(true);
  });

  it("proxies /v1/completions too", async () => {
    const { up, proxyUrl } = await setup();
    const answer = await postJson(
      `${proxyUrl}/v1/completions`,
      { model: "m", prompt: "Q:" },
      { "x-llm-ab-unit": "u-1" },
    );
    expect(answer.status).toBe(200);
    expect(up.requests[0]?.path).toBe("/v1/completions");
    expect(json(answer)).toMatchObject({ choices: [{ text: "Hi there" }] });
  });

  it("writes one exposure record per turn with the allocation, timing, tokens, cost and replica", async () => {
    const { up, spec, sink, proxyUrl } = await setup();
    const [unit] = unitsOf(spec, "treatment", 1);
    await chatTurn(proxyUrl, unit, true);
    await chatTurn(proxyUrl, unit, false);
    const exposures = sink.records.filter((record): record is ExposureRecord => record.type === "exposure");
    expect(exposures).toHaveLength(2);
    const [first, second] = exposures;
    expect(first).toMatchObject({
      experiment: spec.name,
      unit,
      unitSource: "header:x-llm-ab-unit",
      variant: "treatment",
      assigned: "treatment",
      state: "active",
      allocation: 50,
      route: "chat",
      model: spec.variants.treatment?.model,
      deployment: "chat-8b",
      replica: up.url,
      replicaState: "warm",
      status: 200,
      stream: true,
      inputTokens: 7,
      outputTokens: 2,
    });
    expect(first?.ttftSeconds).toBeGreaterThan(0);
    expect(first?.e2eSeconds).toBeGreaterThanOrEqual(first?.ttftSeconds ?? 0);
    // Price 0.05 / 0.20 USD per million tokens.
    expect(first?.costUsd).toBeCloseTo((7 * 0.05 + 2 * 0.2) / 1e6, 15);
    expect(second).toMatchObject({
      stream: false,
      firstAssignedAt: first?.firstAssignedAt,
      bucket: first?.bucket,
    });
    expect(second?.requestId).not.toBe(first?.requestId);
  });

  it("takes the client's x-request-id as the record's request id", async () => {
    const { sink, proxyUrl } = await setup();
    const answer = await postJson(`${proxyUrl}/v1/chat/completions`, chatBody(), {
      "x-llm-ab-unit": "u-1",
      "x-request-id": "req-42",
    });
    expect(answer.headers["x-llm-ab-request-id"]).toBe("req-42");
    expect(sink.records[0]).toMatchObject({ requestId: "req-42" });
  });

  it("serves a request without a unit id from control, writes no exposure and counts it", async () => {
    const { sink, ctx, proxyUrl } = await setup();
    const answer = await chatTurn(proxyUrl, undefined);
    expect(answer.status).toBe(200);
    expect(answer.headers["x-llm-ab-variant"]).toBe("control");
    expect(sink.records).toHaveLength(0);
    const metrics = await ctx.metrics.metrics();
    expect(sample(metrics, "llmab_unit_missing_total")).toBe(1);
    expect(sample(metrics, "llmab_requests_total", { variant: "control", code: "200" })).toBe(1);
  });

  it("serves a treatment unit from control while paused, recording its assignment and the state", async () => {
    const { up, spec, sink, ctx, proxyUrl } = await setup();
    const [unit] = unitsOf(spec, "treatment", 1);
    await ctx.state.apply("pause", { reason: "test" });
    const answer = await chatTurn(proxyUrl, unit);
    expect(answer.headers["x-llm-ab-variant"]).toBe("control");
    expect(systemPromptOf(up.requests[0])).toBe(spec.variants.control?.systemPrompt);
    expect(sink.records[0]).toMatchObject({ variant: "control", assigned: "treatment", state: "paused" });
  });

  it("answers an unreachable upstream with a 502 naming it, and records the failed turn", async () => {
    const spec = testSpec(["http://127.0.0.1:9"], half);
    const sink = memoryRecords();
    const { proxyUrl } = await harness.app({ spec, records: sink });
    const answer = await chatTurn(proxyUrl, "u-1");
    expect(answer.status).toBe(502);
    expect(json(answer)).toMatchObject({
      error: { type: "upstream_error", message: expect.stringContaining("chat-8b") },
    });
    expect(sink.records[0]).toMatchObject({ type: "exposure", status: 502 });
  });

  it("records a turn whose client left before any status with status 0, and aborts the upstream call", async () => {
    const up = await harness.upstream({ headersDelayMs: 2_000 });
    const sink = memoryRecords();
    const { ctx, proxyUrl } = await harness.app({ spec: testSpec([up.url], half), records: sink });
    const req = request(`${proxyUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-llm-ab-unit": "u-gone" },
    });
    req.on("error", () => {});
    req.end(JSON.stringify(chatBody()));
    await eventually("the upstream has the request", () => up.requests.length === 1);
    req.destroy();
    await eventually("the turn is recorded", () => sink.records.length === 1);
    expect(sink.records[0]).toMatchObject({ type: "exposure", unit: "u-gone", status: 0 });
    await eventually("the upstream call was aborted", () => up.requests[0]?.closedEarly === true);
    expect(ctx.inFlight.size).toBe(0);
  });

  it("stops counting a request whose client left in the middle of its body", async () => {
    const { up, ctx, proxyUrl } = await setup();
    const req = request(`${proxyUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": "1000" },
    });
    req.on("error", () => {});
    req.write('{"model": "m", ');
    await eventually("the router is reading the body", () => ctx.inFlight.size === 1);
    req.destroy();
    await eventually("the request is no longer in flight", () => ctx.inFlight.size === 0);
    expect(up.requests).toHaveLength(0);
  });

  it("lists the variants' models on GET /v1/models", async () => {
    const { spec, proxyUrl } = await setup();
    const answer = await send(`${proxyUrl}/v1/models`);
    expect(json(answer)).toMatchObject({
      object: "list",
      data: [{ id: spec.variants.control?.model, object: "model", owned_by: "llm-ab" }],
    });
  });
});

describe("requests the proxy refuses", () => {
  const cases: {
    name: string;
    method?: string;
    path?: string;
    body?: string;
    status: number;
    code: string;
    says: string[];
    allow?: string;
  }[] = [
    {
      name: "malformed JSON is a 400 naming the line and column",
      body: '{"model": "m",\n  "messages": [}',
      status: 400,
      code: "invalid_json",
      says: ["not valid JSON", "line 2, column 16"],
    },
    { name: "an empty body is a 400", body: "", status: 400, code: "empty_body", says: ["empty"] },
    {
      name: "a JSON array is a 400 saying an object is expected",
      body: "[1, 2]",
      status: 400,
      code: "invalid_body",
      says: ["must be a JSON object, got an array"],
    },
    {
      name: "a body over the limit is a 413 naming the limit",
      body: JSON.stringify(chatBody("x".repeat(4096))),
      status: 413,
      code: "body_too_large",
      says: ["limit of 2 KiB"],
    },
    {
      name: "an unknown route is a 404 naming the path and listing the routes",
      path: "/v1/embeddings",
      body: "{}",
      status: 404,
      code: "route_not_found",
      says: ["POST /v1/embeddings", "POST /v1/chat/completions", "GET /v1/models"],
    },
    {
      name: "a wrong method is a 405 with Allow",
      method: "GET",
      status: 405,
      code: "method_not_allowed",
      says: ["/v1/chat/completions does not accept GET: use POST"],
      allow: "POST",
    },
    {
      name: "POST on the model list is a 405 with Allow: GET",
      path: "/v1/models",
      body: "{}",
      status: 405,
      code: "method_not_allowed",
      says: ["use GET"],
      allow: "GET",
    },
  ];

  it.each(cases)("$name", async ({ method, path, body, status, code, says, allow }) => {
    const up = await harness.upstream({});
    const { proxyUrl } = await harness.app({ spec: testSpec([up.url]), maxBodyBytes: 2048 });
    const answer = await send(`${proxyUrl}${path ?? "/v1/chat/completions"}`, {
      method: method ?? "POST",
      ...(body === undefined ? {} : { body }),
      headers: { "content-type": "application/json", "x-llm-ab-unit": "u-1" },
    });
    expect(answer.status).toBe(status);
    expect(answer.headers["content-type"]).toBe("application/json");
    const { error } = json(answer) as { error: { message: string; type: string; code: string } };
    expect(error.code).toBe(code);
    for (const fragment of says) expect(error.message).toContain(fragment);
    if (allow !== undefined) expect(answer.headers.allow).toBe(allow);
    expect(up.requests).toHaveLength(0);
  });
});
