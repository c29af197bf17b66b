/**
 * One proxied call end to end on localhost: client → a front server calling `callUpstream` →
 * scripted upstream. The timing checks compare what the router measured with when the upstream
 * actually sent each token; nothing asserts on the router's own speed.
 */
import { request } from "node:http";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chatBody, ProxyHarness, post, urlSet } from "../helpers/upstream-harness.ts";

const harness = new ProxyHarness();
afterEach(() => harness.cleanup());

const near = (actual: number | undefined, expectedSeconds: number) =>
  expect(Math.abs((actual ?? Number.NaN) - expectedSeconds)).toBeLessThan(0.005);

describe("a streamed call", () => {
  it("passes the upstream's bytes through unchanged and measures TTFT and every ITL within 5 ms", async () => {
    const delaysMs = [80, 20, 35, 25, 40];
    const up = await harness.upstream({});
    const proxy = await harness.front(urlSet([up.url]));
    // The process's first upstream call compiles undici's HTTP parser (~10 ms, once): warm it up.
    await post(`${proxy.url}/v1/chat/completions`, chatBody({ stream: true }));
    await proxy.next();
    up.script = { tokens: ["A", "B", "C", "D", "E"], delaysMs };
    const answer = await post(`${proxy.url}/v1/chat/completions`, chatBody({ stream: true }));
    const result = await proxy.next();

    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toBe("text/event-stream");
    expect(answer.headers["x-llm-ab-variant"]).toBe("treatment");
    expect(answer.body.equals(Buffer.concat(up.requests[1]?.sent ?? []))).toBe(true);
    expect(result).toMatchObject({
      outcome: "ok",
      status: 200,
      streamed: true,
      replicaState: "warm",
      attempts: 1,
    });
    // The upstream follows its script, but on a loaded 2-core machine its timers can fire tens of
    // ms late; what the router must get right is when the tokens were actually sent. Both sides
    // read the same performance.now() clock, so the comparison is exact up to delivery time.
    const received = up.requests[1];
    const sent = (received?.tokenSentAtMs ?? []).map((ms) => ms / 1000);
    const startedAt = proxy.startedAt[1] as number;
    let due = (received?.arrivedAtMs ?? 0) / 1000;
    sent.forEach((at, i) => {
      due += (delaysMs[i] as number) / 1000;
      // Timers fire late, never early beyond libuv's 1 ms resolution on its cached loop clock.
      expect(at).toBeGreaterThanOrEqual(due - 0.003);
    });
    near(result.timing.ttft, (sent[0] as number) - startedAt);
    expect(result.timing.itl).toHaveLength(4);
    result.timing.itl.forEach((gap, i) => {
      near(gap, (sent[i + 1] as number) - (sent[i] as number));
    });
    expect(result.usage).toEqual({ promptTokens: 7, completionTokens: 5 });
    expect(result.timing.outputTokensSource).toBe("usage");
    expect(result.timing.tpot).toBeCloseTo((result.timing.e2e - (result.timing.ttft ?? 0)) / 4, 9);
  });

  it("sends the shaped body and the client's headers minus hop-by-hop ones", async () => {
    const up = await harness.upstream({});
    const proxy = await harness.front(urlSet([up.url]));
    await post(`${proxy.url}/v1/chat/completions`, chatBody({ stream: true }), {
      authorization: "Bearer app-key",
      "x-request-id": "r-1",
      "accept-encoding": "gzip",
      "x-hop": "1",
      connection: "keep-alive, x-hop",
    });
    await proxy.next();
    const received = up.requests[0];
    expect(received?.body).toMatchObject({
      model: "served-model",
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "system", content: "Cite the policy." }, { role: "user" }],
    });
    expect(received?.headers).toMatchObject({ authorization: "Bearer app-key", "x-request-id": "r-1" });
    expect(received?.headers).not.toHaveProperty("x-hop");
    expect(received?.headers["accept-encoding"]).not.toBe("gzip");
  });

  it("reads a completions stream's text tokens", async () => {
    const up = await harness.upstream({ tokens: ["x", "y", "z"], delaysMs: [5, 5, 5] });
    const proxy = await harness.front(urlSet([up.url]));
    const answer = await post(`${proxy.url}/v1/completions`, { model: "m", prompt: "Q:", stream: true });
    const result = await proxy.next();
    expect(answer.body.toString()).toContain('"text":"x"');
    expect(up.requests[0]?.body.prompt).toBe("Cite the policy.\n\nQ:");
    expect(result.timing.contentEvents).toBe(3);
    expect(result.usage?.completionTokens).toBe(3);
  });
});

describe("a non-streamed call", () => {
  it("passes the JSON answer through and reads its usage, with no TTFT", async () => {
    const up = await harness.upstream({
      tokens: ["Hi", "!"],
      delaysMs: [30],
      usage: { prompt_tokens: 11, completion_tokens: 2 },
    });
    const proxy = await harness.front(urlSet([up.url]));
    const answer = await post(`${proxy.url}/v1/chat/completions`, chatBody());
    const result = await proxy.next();
    expect(answer.status).toBe(200);
    expect(answer.body.equals(Buffer.concat(up.requests[0]?.sent ?? []))).toBe(true);
    expect(result).toMatchObject({
      outcome: "ok",
      streamed: false,
      usage: { promptTokens: 11, completionTokens: 2 },
    });
    expect(result.timing.ttft).toBeUndefined();
    expect(result.timing.e2e).toBeGreaterThanOrEqual(0.025);
  });

  it("passes an upstream error status and body through unchanged", async () => {
    const up = await harness.upstream({ status: 400 });
    const proxy = await harness.front(urlSet([up.url]));
    const answer = await post(`${proxy.url}/v1/chat/completions`, chatBody());
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body.toString())).toMatchObject({ error: { message: "scripted failure" } });
    expect(await proxy.next()).toMatchObject({ outcome: "upstream_status", status: 400 });
  });
});

describe("the client side", () => {
  it("aborts the upstream request when the client disconnects mid-stream", async () => {
    const up = await harness.upstream({ tokens: Array(50).fill("tok"), delaysMs: Array(50).fill(20) });
    const proxy = await harness.front(urlSet([up.url]));
    await new Promise<void>((resolve) => {
      const req = request(`${proxy.url}/v1/chat/completions`, { method: "POST" }, (res) => {
        res.on("data", (chunk: Buffer) => {
          if (chunk.includes('"content":"tok"')) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on("error", () => {});
      req.end(JSON.stringify(chatBody({ stream: true })));
    });
    expect(await proxy.next()).toMatchObject({ outcome: "client_gone", status: 499 });
    await vi.waitFor(() => expect(up.requests[0]?.closedEarly).toBe(true));
    expect(up.requests[0]?.tokenSentAtMs.length).toBeLessThan(50);
  });

  it("holds the upstream back while the client does not read, then delivers every byte", async () => {
    const total = 64 << 20;
    const up = await harness.upstream({ tokens: ["a"], fillerBytes: total });
    const proxy = await harness.front(urlSet([up.url]));
    let received = 0;
    let response: import("node:http").IncomingMessage | undefined;
    const done = new Promise<void>((resolve, reject) => {
      const req = request(`${proxy.url}/v1/chat/completions`, { method: "POST" }, (res) => {
        response = res;
        res.pause();
        res.on("data", (chunk: Buffer) => {
          received += chunk.length;
        });
        res.on("end", resolve);
      });
      req.on("error", reject);
      req.end(JSON.stringify(chatBody({ stream: true })));
    });
    // Wait until the upstream cannot write any more: its progress stops while the client sleeps.
    let last = -1;
    await vi.waitFor(
      () => {
        const sent = up.requests[0]?.bytesSent ?? 0;
        const stalled = sent > 0 && sent === last;
        last = sent;
        expect(stalled).toBe(true);
      },
      { timeout: 10_000, interval: 200 },
    );
    // Only socket buffers sit between the upstream and the paused client, not the whole body.
    expect(last).toBeLessThan(total / 2);
    response?.resume();
    await done;
    expect(received).toBe(up.requests[0]?.bytesSent);
    expect(await proxy.next()).toMatchObject({ outcome: "ok", status: 200 });
  });
});
