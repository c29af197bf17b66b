/**
 * Harness for the router's app, admin and integration tests: specs pointed at scripted upstreams,
 * in-process routers (a `RouterContext` behind `createApp`, or a whole `startRouter`), a logger
 * that keeps its lines, a record sink that keeps its records, and small HTTP helpers.
 * Each test file makes one {@link RouterHarness} and calls `cleanup()` in `afterEach`/`afterAll`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type RequestListener, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Logger, pino } from "pino";
import { createAdminApp } from "../../router/admin.ts";
import { createApp } from "../../router/app.ts";
import { armsOf, assign } from "../../router/assignment.ts";
import { RouterContext, type RouterContextOptions } from "../../router/context.ts";
import { type RunningRouter, type StartRouterOptions, startRouter } from "../../router/main.ts";
import type { RouterRecord } from "../../router/records.ts";
import { parseSpec } from "../../spec/load.ts";
import type { ExperimentSpec } from "../../spec/schema.ts";
import { exampleInput, type JsonObject, type Patch, patched } from "../spec/spec-fixtures.ts";
import { type ScriptedUpstream, startScriptedUpstream } from "./scripted-upstream.ts";
import type { Answer } from "./upstream-harness.ts";

export type { Answer } from "./upstream-harness.ts";

/** Warm from the first request: tests that do not look at warm-up see "warm". */
export const noWarmup = { requests: 0, seconds: 0, idleSeconds: 300 };

/**
 * The prompt-duel example (ab 10 %, unit conversation, memory store, deployment chat-8b shared by
 * both variants) with chat-8b's endpoints set to `urls`, no warm-up, and `patches` applied.
 */
export function specInput(urls: readonly string[], ...patches: Patch[]): JsonObject {
  return patched(exampleInput(), [
    [["deployments", "chat-8b", "endpoints"], urls],
    [["deployments", "chat-8b", "warmup"], noWarmup],
    ...patches,
  ]) as JsonObject;
}

/** Patches that move the treatment onto its own deployment `chat-alt` served by `urls`. */
export function ownDeployment(urls: readonly string[]): Patch[] {
  const base = exampleInput() as { deployments: Record<string, JsonObject> };
  return [
    [["deployments", "chat-alt"], { ...base.deployments["chat-8b"], endpoints: urls, warmup: noWarmup }],
    [["variants", "treatment", "deployment"], "chat-alt"],
  ];
}

/** A parsed spec from {@link specInput}. */
export function testSpec(urls: readonly string[], ...patches: Patch[]): ExperimentSpec {
  return parseSpec(specInput(urls, ...patches), "router test spec");
}

/** A logger that keeps its JSON lines (level debug). */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "debug" },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

/** A record sink that keeps what it is given. */
export function memoryRecords(): RouterContextOptions["records"] & { readonly records: RouterRecord[] } {
  const records: RouterRecord[] = [];
  return {
    records,
    write: (record) => void records.push(record),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/** The records of a JSON-lines event log. */
export function readRecords(path: string): RouterRecord[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as RouterRecord);
}

/** The value of one exposition line whose labels include `labels`; undefined when there is none. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) {
      return Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return undefined;
}

/** Sends a request with node:http (headers exactly as given) and reads the whole answer. */
export function send(
  url: string,
  options: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers ?? {} }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (part: Buffer) => parts.push(part));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

/** POSTs a JSON value. */
export function postJson(url: string, value: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return send(url, {
    method: "POST",
    body: JSON.stringify(value),
    headers: { "content-type": "application/json", ...headers },
  });
}

/** The JSON of an answer's body. */
export function json(answer: Answer): Record<string, unknown> {
  return JSON.parse(answer.body.toString()) as Record<string, unknown>;
}

/** A chat request body; `stream` asks for SSE. */
export function chatBody(text = "Where is my order?", stream = false): Record<string, unknown> {
  return {
    model: "app-model",
    messages: [
      { role: "system", content: "Be helpful." },
      { role: "user", content: text },
    ],
    ...(stream ? { stream: true } : {}),
  };
}

/** One turn of a conversation through the proxy: POST /v1/chat/completions with the unit header. */
export function chatTurn(proxyUrl: string, unit: string | undefined, stream = false): Promise<Answer> {
  return postJson(
    `${proxyUrl}/v1/chat/completions`,
    chatBody("Hi", stream),
    unit === undefined ? {} : { "x-llm-ab-unit": unit },
  );
}

/** Polls `check` every 20 ms until it returns true; fails with `what` after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An in-process router made of a context and both handlers on free ports. */
export interface AppUnderTest {
  readonly ctx: RouterContext;
  readonly proxyUrl: string;
  readonly adminUrl: string;
}

/** Starts servers, routers and upstreams for a test file and stops them all in `cleanup()`. */
export class RouterHarness {
  private readonly closers: (() => Promise<unknown> | unknown)[] = [];
  private dir: string | undefined;

  /** A temporary directory for spec files and logs, removed at cleanup. */
  tempDir(): string {
    if (this.dir === undefined) {
      const dir = mkdtempSync(join(tmpdir(), "llm-ab-router-"));
      this.dir = dir;
      this.closers.push(() => {
        rmSync(dir, { recursive: true, force: true });
        this.dir = undefined;
      });
    }
    return this.dir;
  }

  /** Writes a spec value as JSON into the temp directory; returns its path. */
  writeSpec(input: unknown, name = "spec.json"): string {
    const path = join(this.tempDir(), name);
    writeFileSync(path, JSON.stringify(input, null, 2));
    return path;
  }

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

  /** Serves a handler on a free port of 127.0.0.1 until cleanup; returns its URL. */
  async serve(handler: RequestListener): Promise<string> {
    const server: Server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.closers.push(() => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** A context for `spec` (memory store unless given, no process metrics) behind both handlers. */
  async app(options: Partial<RouterContextOptions> & { spec: ExperimentSpec }): Promise<AppUnderTest> {
    const ctx = await RouterContext.create({
      logger: pino({ level: "silent" }),
      processMetrics: false,
      ...options,
    });
    this.closers.push(() => ctx.close());
    return {
      ctx,
      proxyUrl: await this.serve(createApp(ctx)),
      adminUrl: await this.serve(createAdminApp(ctx)),
    };
  }

  /** `startRouter` on free ports, not watching the file unless asked; stopped at cleanup. */
  async router(options: Partial<StartRouterOptions> & { specPath: string }): Promise<RunningRouter> {
    const router = await startRouter({
      port: 0,
      adminPort: 0,
      watch: false,
      logger: pino({ level: "silent" }),
      ...options,
      context: { processMetrics: false, ...options.context },
    });
    this.closers.push(() => router.stop());
    return router;
  }
}

/** `count` unit ids (`<prefix>-<i>`) that the hash places in `variant` at the spec's current percent. */
export function unitsOf(spec: ExperimentSpec, variant: string, count: number, prefix = "unit"): string[] {
  const arms = armsOf(spec);
  const found: string[] = [];
  for (let i = 0; found.length < count; i++) {
    if (i > 1_000_000) throw new Error(`no ${count} units of ${variant} among the first million ids`);
    const unitId = `${prefix}-${i}`;
    const placed = assign({
      salt: spec.salt,
      unitId,
      treatmentPercent: spec.rollout.treatmentPercent,
      arms,
      hashVersion: spec.hashVersion,
    });
    if (placed.variant === variant) found.push(unitId);
  }
  return found;
}

/** The system message an upstream received (what the variant's shaping put there). */
export function systemPromptOf(request: { readonly body: Record<string, unknown> } | undefined): unknown {
  const messages = request?.body.messages;
  return Array.isArray(messages) ? (messages[0] as { content?: unknown } | undefined)?.content : undefined;
}
