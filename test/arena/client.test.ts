/** The arena client: retries with backoff on what can recover, none on client errors, and the limiter. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  backoffMs,
  endpointUrl,
  HttpCallError,
  limit,
  type PostOptions,
  parseRetryAfter,
  postJson,
} from "../../arena/client.ts";
import { type ArenaScript, type ArenaServer, startArenaServer } from "../helpers/arena-server.ts";

const servers: ArenaServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

async function serve(script: ArenaScript = {}): Promise<ArenaServer> {
  const server = await startArenaServer(script);
  servers.push(server);
  return server;
}

/** Client options that record the backoff delays instead of sleeping them. */
function recordingSleep(extra: PostOptions = {}): { options: PostOptions; delays: number[] } {
  const delays: number[] = [];
  const options: PostOptions = {
    ...extra,
    sleep: async (ms) => {
      delays.push(ms);
    },
  };
  return { options, delays };
}

const chat = { model: "m", messages: [{ role: "user", content: "hi" }] };

describe("postJson", () => {
  it("retries 503s and returns the answer with the number of attempts", async () => {
    const server = await serve({ failFirst: { count: 2, status: 503 } });
    const { options, delays } = recordingSleep({ retries: 3 });
    const result = await postJson(`${server.url}/v1/chat/completions`, chat, options);
    expect(result.status).toBe(200);
    expect(result.attempts).toBe(3);
    expect(server.calls().map((call) => call.status)).toEqual([503, 503, 200]);
    expect(delays).toHaveLength(2);
  });

  it("honours Retry-After on 429 instead of its own backoff", async () => {
    const server = await serve({ failFirst: { count: 1, status: 429, retryAfter: "2" } });
    const { options, delays } = recordingSleep();
    const result = await postJson(`${server.url}/v1/chat/completions`, chat, options);
    expect(result.attempts).toBe(2);
    expect(delays).toEqual([2000]);
  });

  it("gives up after the retries with an error naming the URL, the status and the server's message", async () => {
    const server = await serve({ failFirst: { count: 10, status: 503 } });
    const { options } = recordingSleep({ retries: 2 });
    const url = `${server.url}/v1/chat/completions`;
    const error = await postJson(url, chat, options).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HttpCallError);
    const failure = error as HttpCallError;
    expect(failure.attempts).toBe(3);
    expect(failure.status).toBe(503);
    expect(failure.message).toContain(url);
    expect(failure.message).toContain("HTTP 503");
    expect(failure.message).toContain("scripted failure 3 of 10");
    expect(server.calls()).toHaveLength(3);
  });

  it.each([400, 401, 404, 422])("does not retry a %i", async (status) => {
    const server = await serve({ reject: () => status });
    const { options, delays } = recordingSleep({ retries: 4 });
    const error = await postJson(`${server.url}/v1/chat/completions`, chat, options).catch(
      (caught) => caught,
    );
    expect(error).toBeInstanceOf(HttpCallError);
    expect((error as HttpCallError).status).toBe(status);
    expect((error as HttpCallError).message).toContain("scripted refusal of /v1/chat/completions");
    expect(server.calls()).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("retries a refused connection and reports that no answer came", async () => {
    const server = await startArenaServer();
    await server.stop();
    const { options, delays } = recordingSleep({ retries: 2 });
    const error = await postJson(`${server.url}/v1/chat/completions`, chat, options).catch(
      (caught) => caught,
    );
    expect(error).toBeInstanceOf(HttpCallError);
    expect((error as HttpCallError).status).toBeUndefined();
    expect((error as HttpCallError).attempts).toBe(3);
    expect((error as HttpCallError).message).toContain("no answer");
    expect(delays).toHaveLength(2);
  });

  it("does not retry a malformed URL", async () => {
    const { options, delays } = recordingSleep({ retries: 3 });
    const error = await postJson("not a url", chat, options).catch((caught) => caught);
    expect((error as HttpCallError).attempts).toBe(1);
    expect((error as HttpCallError).message).toContain("ERR_INVALID_URL");
    expect(delays).toEqual([]);
  });

  it("retries an attempt that times out", async () => {
    let requests = 0;
    // Reads the request and never answers.
    const silent = createServer((request) => {
      requests++;
      request.resume();
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const { options } = recordingSleep({ retries: 1, timeoutMs: 100 });
      const error = await postJson(`http://127.0.0.1:${port}/v1/chat/completions`, chat, options).catch(
        (caught) => caught,
      );
      expect((error as HttpCallError).message).toContain("no answer within 100 ms");
      expect((error as HttpCallError).attempts).toBe(2);
      expect(requests).toBe(2);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("stops at once, without retrying, when the caller aborts", async () => {
    const server = await serve({ failFirst: { count: 10, status: 503 } });
    const controller = new AbortController();
    const options: PostOptions = {
      signal: controller.signal,
      sleep: async () => controller.abort(new Error("stopped by the test")),
    };
    await expect(postJson(`${server.url}/v1/chat/completions`, chat, options)).rejects.toThrow(
      "stopped by the test",
    );
    expect(server.calls()).toHaveLength(1);
  });
});

describe("backoff", () => {
  it.each([
    { retry: 0, random: 0.5, expected: 50 },
    { retry: 3, random: 0.5, expected: 400 },
    { retry: 10, random: 0.5, expected: 500 },
    { retry: 2, random: 0, expected: 0 },
  ])(
    "draws full jitter under min(max, base·2^retry): retry $retry, u=$random → $expected ms",
    ({ retry, random, expected }) => {
      expect(backoffMs(retry, 100, 1000, () => random)).toBe(expected);
    },
  );

  it.each([
    { header: "3", expected: 3000 },
    { header: "0.5", expected: 500 },
    { header: "Thu, 01 Jan 2026 00:00:10 GMT", expected: 10_000 },
    { header: "soon", expected: undefined },
    { header: undefined, expected: undefined },
  ])("reads Retry-After $header as $expected ms", ({ header, expected }) => {
    expect(parseRetryAfter(header, Date.parse("2026-01-01T00:00:00Z"))).toBe(expected);
  });
});

describe("endpointUrl", () => {
  it.each([
    ["http://127.0.0.1:8001", "http://127.0.0.1:8001/v1/chat/completions"],
    ["http://127.0.0.1:8001/", "http://127.0.0.1:8001/v1/chat/completions"],
    ["https://api.openai.com/v1", "https://api.openai.com/v1/chat/completions"],
    ["http://gateway/openai/", "http://gateway/openai/v1/chat/completions"],
  ])("joins %s and the route path without doubling /v1", (base, expected) => {
    expect(endpointUrl(base, "/v1/chat/completions")).toBe(expected);
  });
});

describe("limit", () => {
  it("never runs more than n tasks at once and returns each task's result", async () => {
    const limiter = limit(2);
    let running = 0;
    let most = 0;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        limiter(async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setImmediate(resolve));
          running--;
          return i * i;
        }),
      ),
    );
    expect(most).toBe(2);
    expect(results).toEqual([0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
  });

  it("frees the slot of a task that fails", async () => {
    const limiter = limit(1);
    await expect(limiter(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(limiter(async () => "next")).resolves.toBe("next");
  });

  it("refuses a concurrency below one", () => {
    expect(() => limit(0)).toThrow("concurrency must be an integer ≥ 1, got 0");
  });
});
