/**
 * A local OpenAI-compatible server with scripted answers, for router tests: chat and completions,
 * streamed (SSE, shaped like vLLM's) or not, with per-token delays, usage, stalls, error statuses
 * and bulk filler for backpressure tests. It records every request and what it sent.
 *
 * With `engine`, it also serves vLLM's engine metrics on `GET /metrics` (test/helpers/engine-metrics.ts).
 *
 * Delays are scheduled against absolute offsets from the request's arrival, so timer lateness does
 * not accumulate over a stream and each gap is off by at most one timer's lateness.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { EngineMetrics } from "./engine-metrics.ts";

/** How the server answers one request. */
export interface ScriptedAnswer {
  /** Generated tokens. Default ["Hello", ",", " world", "!"]. */
  readonly tokens?: readonly string[];
  /** Milliseconds before each token, counted from the previous one (the first from arrival). Default 0s. */
  readonly delaysMs?: readonly number[];
  /** Usage to report (streamed only when the request asks with stream_options.include_usage); false: none. Default prompt 7, completion = tokens. */
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number } | false;
  /** A non-200 status answers with an OpenAI-style JSON error instead. Default 200. */
  readonly status?: number;
  /** Milliseconds to wait before sending headers. Default 0. */
  readonly headersDelayMs?: number;
  /** Stop after this many tokens and keep the connection open without ending. Default: never. */
  readonly stallAfterTokens?: number;
  /** Streamed: after the tokens, this many bytes of SSE comment lines, written respecting backpressure. */
  readonly fillerBytes?: number;
}

/** One request the server received, and what it did with it. */
export interface RecordedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
  /** Everything written to the response body, in order. */
  readonly sent: Buffer[];
  /** Bytes written so far (including filler). */
  bytesSent: number;
  /** `performance.now()` (ms) when the request body had been read; delays count from here. */
  readonly arrivedAtMs: number;
  /** `performance.now()` (ms) when each token was written. */
  readonly tokenSentAtMs: number[];
  /** The response ended normally. */
  finished: boolean;
  /** The connection closed before the response ended (the router aborted it). */
  closedEarly: boolean;
}

export interface ScriptedUpstream {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** How to answer the next requests. */
  script: ScriptedAnswer | ((request: RecordedRequest) => ScriptedAnswer);
  /** Stops listening and cuts open connections. */
  close(): Promise<void>;
}

const DEFAULT_TOKENS = ["Hello", ",", " world", "!"];

function sseEvent(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

function chunkFor(
  path: string,
  model: unknown,
  choice: Record<string, unknown>,
  extra: object = {},
): unknown {
  const chat = path.endsWith("/chat/completions");
  return {
    id: "cmpl-scripted",
    object: chat ? "chat.completion.chunk" : "text_completion",
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, ...choice, logprobs: null }],
    ...extra,
  };
}

async function readJson(request: import("node:http").IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString();
  return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
}

function answer(record: RecordedRequest, res: ServerResponse, script: ScriptedAnswer): void {
  const chat = record.path.endsWith("/chat/completions");
  const tokens = script.tokens ?? DEFAULT_TOKENS;
  const usage = script.usage ?? { prompt_tokens: 7, completion_tokens: tokens.length };
  const write = (text: string | Buffer): boolean => {
    const bytes = typeof text === "string" ? Buffer.from(text) : text;
    record.sent.push(bytes);
    record.bytesSent += bytes.length;
    return res.write(bytes);
  };
  if ((script.status ?? 200) !== 200) {
    const body = JSON.stringify({
      error: { message: "scripted failure", type: "BadRequestError", code: script.status },
    });
    res.writeHead(script.status ?? 500, { "content-type": "application/json" });
    write(body);
    res.end(() => {
      record.finished = true;
    });
    return;
  }
  const model = record.body.model;
  if (record.body.stream !== true) {
    const text = tokens.join("");
    const choice = chat ? { message: { role: "assistant", content: text } } : { text };
    const body = {
      ...(chunkFor(record.path, model, { ...choice, finish_reason: "stop" }) as object),
      object: chat ? "chat.completion" : "text_completion",
      ...(usage === false ? {} : { usage }),
    };
    const bytes = Buffer.from(JSON.stringify(body));
    const started = performance.now();
    const total = (script.delaysMs ?? []).reduce((sum, delay) => sum + delay, 0);
    setTimeout(
      () => {
        res.writeHead(200, { "content-type": "application/json", "content-length": bytes.length });
        write(bytes);
        res.end(() => {
          record.finished = true;
        });
      },
      Math.max(0, total - (performance.now() - started)),
    );
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  // vLLM's first chat event announces the role with empty content: it is not a token.
  if (chat)
    write(
      sseEvent(
        chunkFor(record.path, model, { delta: { role: "assistant", content: "" }, finish_reason: null }),
      ),
    );
  const arrival = record.arrivedAtMs + (script.headersDelayMs ?? 0);
  const wantsUsage =
    (record.body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
  let due = 0;
  let index = 0;
  const finish = () => {
    write(
      sseEvent(
        chunkFor(
          record.path,
          model,
          chat ? { delta: {}, finish_reason: "stop" } : { text: "", finish_reason: "stop" },
        ),
      ),
    );
    if (wantsUsage && usage !== false) {
      write(
        sseEvent({
          id: "cmpl-scripted",
          object: "chat.completion.chunk",
          created: 1_700_000_000,
          model,
          choices: [],
          usage,
        }),
      );
    }
    write("data: [DONE]\n\n");
    res.end(() => {
      record.finished = true;
    });
  };
  const filler = (left: number) => {
    while (left > 0 && !record.closedEarly) {
      const size = Math.min(left, 64 * 1024);
      left -= size;
      const line = Buffer.alloc(size, 0x78);
      line[0] = 0x3a; // ":" — an SSE comment
      line[size - 2] = 0x0a;
      line[size - 1] = 0x0a;
      if (!write(line)) {
        res.once("drain", () => filler(left));
        return;
      }
    }
    if (!record.closedEarly) finish();
  };
  const next = () => {
    if (record.closedEarly) return;
    if (index >= tokens.length) {
      if (script.fillerBytes) filler(script.fillerBytes);
      else finish();
      return;
    }
    if (script.stallAfterTokens !== undefined && index >= script.stallAfterTokens) return;
    due += script.delaysMs?.[index] ?? 0;
    setTimeout(
      () => {
        if (record.closedEarly) return;
        const token = tokens[index] as string;
        record.tokenSentAtMs.push(performance.now());
        write(sseEvent(chunkFor(record.path, model, chat ? { delta: { content: token } } : { text: token })));
        index++;
        next();
      },
      Math.max(0, arrival + due - performance.now()),
    );
  };
  next();
}

/** Starts a scripted upstream on `host` (default 127.0.0.1) and a free port (or `port`). */
export async function startScriptedUpstream(
  script: ScriptedUpstream["script"] = {},
  options: { host?: string; port?: number; engine?: { modelName: string } } = {},
): Promise<ScriptedUpstream> {
  const requests: RecordedRequest[] = [];
  const upstream = { script } as { script: ScriptedUpstream["script"] };
  const engine = options.engine ? new EngineMetrics(options.engine.modelName) : undefined;
  const server: Server = createServer((req, res) => {
    if (engine && req.method === "GET" && req.url === "/metrics") {
      void engine.registry.metrics().then((text) => {
        res.writeHead(200, { "content-type": engine.registry.contentType });
        res.end(text);
      });
      return;
    }
    void readJson(req).then((body) => {
      const record: RecordedRequest = {
        path: req.url ?? "",
        arrivedAtMs: performance.now(),
        headers: req.headers,
        body,
        sent: [],
        bytesSent: 0,
        tokenSentAtMs: [],
        finished: false,
        closedEarly: false,
      };
      requests.push(record);
      engine?.started(record);
      res.on("close", () => {
        if (!res.writableFinished) record.closedEarly = true;
        engine?.ended(record);
      });
      const current = typeof upstream.script === "function" ? upstream.script(record) : upstream.script;
      setTimeout(() => {
        if (!record.closedEarly) answer(record, res, current);
      }, current.headersDelayMs ?? 0);
    });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    port,
    requests,
    get script() {
      return upstream.script;
    },
    set script(value) {
      upstream.script = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
