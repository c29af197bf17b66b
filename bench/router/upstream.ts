/**
 * The SSE upstream every target of bench/router talks to: an OpenAI-compatible
 * `/v1/chat/completions` and `/v1/completions` that streams `--tokens` tokens shaped like vLLM's
 * chunks (role event, one event per token, finish event, usage when asked, `[DONE]`), each token a
 * separate write. By default with no delay, so the proxies are measured, not a model.
 *
 * `POST /_bench/pace {"itlMs": n}` sets a gap between tokens (the time-to-first-byte phase, see
 * bench/router.ts). Run as a child process: it prints `{"url": ...}` once listening and exits
 * when the bench does.
 *
 *   node bin/run-ts.mjs bench/router/upstream.ts [--tokens 20]
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { exitWithParent } from "./processes.ts";

const { values } = parseArgs({ options: { tokens: { type: "string", default: "20" } } });
const tokenCount = Number(values.tokens);
if (!Number.isInteger(tokenCount) || tokenCount < 1)
  throw new Error(`--tokens must be ≥ 1, got ${values.tokens}`);

let itlMs = 0;

/** The events of one answer, serialized once per (path, model): JSON.stringify per token would make the upstream the bottleneck. */
interface Events {
  readonly head: string;
  readonly tokens: readonly string[];
  readonly finish: string;
  readonly usage: string;
  readonly whole: string;
}
const eventCache = new Map<string, Events>();

function eventsFor(chat: boolean, model: unknown): Events {
  const key = `${chat}:${String(model)}`;
  const cached = eventCache.get(key);
  if (cached !== undefined) return cached;
  const base = {
    id: "cmpl-bench",
    object: chat ? "chat.completion.chunk" : "text_completion",
    created: 1,
    model,
  };
  const sse = (choice: object | null, extra: object = {}) =>
    `data: ${JSON.stringify({ ...base, choices: choice === null ? [] : [{ index: 0, ...choice, logprobs: null }], ...extra })}\n\n`;
  const words = Array.from({ length: tokenCount }, (_, i) => (i === 0 ? "Token" : ` t${i}`));
  const usage = { prompt_tokens: 12, completion_tokens: tokenCount, total_tokens: 12 + tokenCount };
  const text = words.join("");
  const events: Events = {
    head: chat ? sse({ delta: { role: "assistant", content: "" }, finish_reason: null }) : "",
    tokens: words.map((word) => sse(chat ? { delta: { content: word } } : { text: word })),
    finish: sse(chat ? { delta: {}, finish_reason: "stop" } : { text: "", finish_reason: "stop" }),
    usage: sse(null, { usage }),
    whole: JSON.stringify({
      ...base,
      object: chat ? "chat.completion" : "text_completion",
      choices: [
        {
          index: 0,
          finish_reason: "stop",
          ...(chat ? { message: { role: "assistant", content: text } } : { text }),
        },
      ],
      usage,
    }),
  };
  eventCache.set(key, events);
  return events;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body));
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function stream(res: ServerResponse, events: Events, withUsage: boolean): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  if (events.head !== "") res.write(events.head);
  const gap = itlMs;
  let index = 0;
  const next = () => {
    if (res.destroyed) return; // the client (or proxy) went away mid-stream
    // The first token goes out at once: the phase measures the proxy's delay, not a scripted one.
    while (index < events.tokens.length) {
      res.write(events.tokens[index++]!);
      if (gap > 0 && index < events.tokens.length) {
        setTimeout(next, gap);
        return;
      }
    }
    res.write(events.finish);
    if (withUsage) res.write(events.usage);
    res.end("data: [DONE]\n\n");
  };
  next();
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const path = req.url ?? "";
  let body: Record<string, unknown>;
  try {
    body = parts.length === 0 ? {} : (JSON.parse(Buffer.concat(parts).toString()) as Record<string, unknown>);
  } catch {
    return json(res, 400, {
      error: { message: "bench upstream: body is not JSON", type: "invalid_request_error" },
    });
  }
  if (path === "/_bench/pace" && req.method === "POST") {
    itlMs = Number(body.itlMs ?? 0);
    return json(res, 200, { itlMs });
  }
  if (req.method !== "POST" || (path !== "/v1/chat/completions" && path !== "/v1/completions")) {
    return json(res, 404, {
      error: { message: `bench upstream: no route ${req.method} ${path}`, type: "not_found" },
    });
  }
  const events = eventsFor(path === "/v1/chat/completions", body.model);
  if (body.stream !== true) return send(res, 200, events.whole);
  const options = body.stream_options as { include_usage?: unknown } | undefined;
  stream(res, events, options?.include_usage === true);
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    if (!res.headersSent) json(res, 500, { error: { message: String(error), type: "server_error" } });
    else res.destroy();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));
});
exitWithParent(
  () =>
    new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    }),
);
