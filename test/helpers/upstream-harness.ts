/**
 * Harness for `callUpstream` tests: a minimal front server that shapes each request for a variant
 * and proxies it with `callUpstream` to scripted upstreams, plus a plain node:http client. Each
 * test file makes one {@link ProxyHarness} and calls `cleanup()` in `afterEach`.
 */
import { createServer, type IncomingHttpHeaders, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Agent } from "undici";
import { ReplicaSet, type ReplicaSetOptions } from "../../router/replicas.ts";
import { shapeRequest } from "../../router/shaping.ts";
import { monotonicSeconds } from "../../router/timing.ts";
import {
  callUpstream,
  createUpstreamAgent,
  type UpstreamCallOptions,
  type UpstreamCallResult,
} from "../../router/upstream-call.ts";
import { type ScriptedUpstream, startScriptedUpstream } from "./scripted-upstream.ts";

/** Warm from the first request, so tests that do not look at warm-up see "warm". */
export const noWarmup = { requests: 0, seconds: 0, idleSeconds: 300 };

/** A replica set over URL endpoints of deployment `chat-8b`. */
export function urlSet(urls: string[], extra: Partial<ReplicaSetOptions> = {}): ReplicaSet {
  return new ReplicaSet({
    deployment: "chat-8b",
    source: { kind: "urls", urls },
    warmup: noWarmup,
    ...extra,
  });
}

/** A port nothing listens on. */
export async function deadPort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Front {
  readonly url: string;
  /** When each call started (seconds, `monotonicSeconds`), in arrival order. */
  readonly startedAt: number[];
  /** Resolves with the result of the next call to finish. */
  next(): Promise<UpstreamCallResult>;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** POSTs JSON with node:http (headers exactly as given) and reads the whole answer. */
export function post(url: string, body: object, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", headers: { "content-type": "application/json", ...headers } },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (part: Buffer) => parts.push(part));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

/** A chat request body with the application's own system prompt. */
export const chatBody = (extra: object = {}) => ({
  model: "app-model",
  messages: [
    { role: "system", content: "Be helpful." },
    { role: "user", content: "Where is my order?" },
  ],
  ...extra,
});

/** Starts servers for one test and stops them all in `cleanup()`. */
export class ProxyHarness {
  private readonly closers: (() => Promise<unknown> | unknown)[] = [];

  /** Stops everything started since the last cleanup, newest first. */
  async cleanup(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close();
  }

  /** A scripted upstream, closed at cleanup. */
  async upstream(...args: Parameters<typeof startScriptedUpstream>): Promise<ScriptedUpstream> {
    const started = await startScriptedUpstream(...args);
    this.closers.push(() => started.close());
    return started;
  }

  /**
   * A front server that shapes each request for a treatment variant (model `served-model`, system
   * prompt replaced, temperature 0), sets `x-llm-ab-variant`, and proxies with `callUpstream`
   * (conversation key from `x-llm-ab-conversation`).
   */
  async front(replicas: ReplicaSet, options: Partial<UpstreamCallOptions> = {}): Promise<Front> {
    const agent: Agent = createUpstreamAgent(1_000);
    const results: UpstreamCallResult[] = [];
    const startedAt: number[] = [];
    const waiting: ((result: UpstreamCallResult) => void)[] = [];
    const server: Server = createServer(async (req, res) => {
      const parts: Buffer[] = [];
      for await (const part of req) parts.push(part as Buffer);
      const route = req.url === "/v1/completions" ? "completions" : "chat";
      const shaped = shapeRequest(route, JSON.parse(Buffer.concat(parts).toString()), {
        model: "served-model",
        systemPrompt: "Cite the policy.",
        systemPromptMode: "replace",
        params: { temperature: 0 },
      });
      res.setHeader("x-llm-ab-variant", "treatment");
      const conversation = req.headers["x-llm-ab-conversation"];
      startedAt.push(monotonicSeconds());
      const result = await callUpstream({
        replicas,
        route,
        body: Buffer.from(JSON.stringify(shaped.body)),
        headers: req.headers,
        response: res,
        conversationKey: typeof conversation === "string" ? conversation : undefined,
        dispatcher: agent,
        startedAt: startedAt.at(-1),
        ...options,
      });
      const waiter = waiting.shift();
      if (waiter) waiter(result);
      else results.push(result);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.closers.push(
      () => new Promise((resolve) => server.close(resolve)),
      () => server.closeAllConnections(),
      () => agent.destroy(),
    );
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      startedAt,
      next: () => {
        const ready = results.shift();
        return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
      },
    };
  }
}
