/**
 * Shadow mode in-process: the treatment runs on its own scripted upstream that answers with
 * recognisable text, so any byte of it reaching the client would show.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ShadowRecord } from "../../router/records.ts";
import {
  chatTurn,
  eventually,
  memoryRecords,
  ownDeployment,
  RouterHarness,
  systemPromptOf,
  testSpec,
} from "../helpers/router-harness.ts";

const harness = new RouterHarness();
afterEach(() => harness.cleanup());

const shadowMode: [readonly (string | number)[], unknown] = [["rollout"], { mode: "shadow" }];

async function setup(shadowScript: Parameters<typeof harness.upstream>[0] = {}) {
  const control = await harness.upstream({ tokens: ["control", " answer"] });
  const shadow = await harness.upstream({ tokens: ["SHADOW", " TEXT"], ...shadowScript });
  const spec = testSpec([control.url], shadowMode, ...ownDeployment([shadow.url]));
  const records = memoryRecords();
  const shadowRecords = memoryRecords();
  const app = await harness.app({ spec, records, shadowRecords });
  return { control, shadow, spec, records, shadowRecords, ...app };
}

describe("shadow mode", () => {
  it.each([false, true])("answers the client from control only, streamed: %s", async (stream) => {
    const { control, shadow, spec, proxyUrl } = await setup();
    const answer = await chatTurn(proxyUrl, "u-1", stream);
    expect(answer.status).toBe(200);
    expect(answer.headers["x-llm-ab-variant"]).toBe("control");
    expect(answer.body.toString()).toContain("control");
    expect(answer.body.toString()).not.toContain("SHADOW");
    await eventually("the mirror reached the treatment", () => shadow.requests.length === 1);
    expect(systemPromptOf(control.requests[0])).toBe(spec.variants.control?.systemPrompt);
    expect(systemPromptOf(shadow.requests[0])).toBe(spec.variants.treatment?.systemPrompt);
  });

  it("records the treatment's latency, tokens and text next to control's text in the shadow log", async () => {
    const { records, shadowRecords, proxyUrl } = await setup();
    const answer = await chatTurn(proxyUrl, "u-1", true);
    await eventually("the shadow record is written", () => shadowRecords.records.length === 1);
    const record = shadowRecords.records[0] as ShadowRecord;
    expect(record).toMatchObject({
      type: "shadow",
      unit: "u-1",
      requestId: answer.headers["x-llm-ab-request-id"],
      variant: "treatment",
      deployment: "chat-alt",
      status: 200,
      outputTokens: 2,
      text: "SHADOW TEXT",
      controlText: "control answer",
    });
    expect(record.ttftSeconds).toBeGreaterThan(0);
    // The user's turn is an exposure of control; the mirror is not an exposure.
    expect(records.records).toEqual([expect.objectContaining({ type: "exposure", variant: "control" })]);
  });

  it("does not hold the client's answer back for a slow treatment", async () => {
    const { shadow, shadowRecords, proxyUrl } = await setup({ headersDelayMs: 400 });
    const answer = await chatTurn(proxyUrl, "u-1", true);
    expect(answer.status).toBe(200);
    // The client has its whole answer while the treatment has not even sent its headers.
    expect(shadow.requests.every((request) => request.bytesSent === 0)).toBe(true);
    expect(shadowRecords.records).toHaveLength(0);
    await eventually("the slow mirror finishes", () => shadowRecords.records.length === 1);
  });

  it("mirrors nothing while the experiment is paused", async () => {
    const { shadow, ctx, proxyUrl } = await setup();
    await ctx.state.apply("pause");
    await chatTurn(proxyUrl, "u-1");
    await new Promise((resolve) => setImmediate(resolve));
    expect(ctx.inFlight.size).toBe(0);
    expect(shadow.requests).toHaveLength(0);
  });
});
