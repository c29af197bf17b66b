/**
 * A deterministic OpenAI-compatible server for the arena's tests: candidate answers, judge verdicts
 * and embeddings all come from a script, so each test knows the right result. Serves
 * `POST /v1/chat/completions` (non-streaming) and `POST /v1/embeddings` on 127.0.0.1, records
 * every request (failed ones too, so retries can be counted), and can fail the first calls with
 * 503 or 429 or refuse chosen requests with any status.
 *
 * A chat request whose `model` is the script's judge model goes to `judge`, every other one to
 * `answer`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** The parsed JSON body of a request. */
export type RequestBody = Record<string, unknown>;

/** What the server answers; every part has a default. */
export interface ArenaScript {
  /** A candidate's answer to a chat request. Default "ok". */
  readonly answer?: (body: RequestBody) => string;
  /** A judge's raw answer to a chat request to the judge model. Default `{"preferred": "tie", ...}`. */
  readonly judge?: (body: RequestBody) => string;
  /** Requests with this `model` are judge calls. Default "judge". */
  readonly judgeModel?: string;
  /** The embedding of one input text. Default {@link bagOfWords}. */
  readonly embed?: (text: string) => number[];
  /** The first `count` requests (any route) answer `status` (default 503), with `Retry-After` when given. */
  readonly failFirst?: { readonly count: number; readonly status?: number; readonly retryAfter?: string };
  /** A status to refuse this request with (an OpenAI-style error body), or undefined to answer it. */
  readonly reject?: (path: string, body: RequestBody) => number | undefined;
}

/** One request as the server saw it, and the status it answered. */
export interface RecordedCall {
  readonly path: string;
  readonly body: RequestBody;
  readonly status: number;
}

export interface ArenaServer {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Every request so far, in arrival order. */
  calls(): RecordedCall[];
  stop(): Promise<void>;
}

/** A 64-dimensional bag-of-words vector: each lowercase word adds 1 at a hash of it. */
export function bagOfWords(text: string, dimensions = 64): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9#]+/g) ?? []) {
    let hash = 2166136261;
    for (let i = 0; i < word.length; i++) hash = Math.imul(hash ^ word.charCodeAt(i), 16777619);
    const index = (hash >>> 0) % dimensions;
    vector[index] = (vector[index] ?? 0) + 1;
  }
  return vector;
}

/** The chat messages of a request body. */
export function messagesOf(body: RequestBody): { role: string; content: string }[] {
  return Array.isArray(body.messages) ? (body.messages as { role: string; content: string }[]) : [];
}

/** The text of the last user message. */
export function lastUserText(body: RequestBody): string {
  return messagesOf(body).findLast((message) => message.role === "user")?.content ?? "";
}

/** The content of `<tag>…</tag>` in `text`, or undefined. */
export function tagged(text: string, tag: string): string | undefined {
  const start = text.indexOf(`<${tag}>`);
  const end = text.indexOf(`</${tag}>`, start);
  if (start < 0 || end < 0) return undefined;
  return text.slice(start + tag.length + 2, end).trim();
}

async function readBody(request: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

function send(
  response: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
) {
  const bytes = Buffer.from(JSON.stringify(payload));
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(bytes.length),
    ...headers,
  });
  response.end(bytes);
}

function errorBody(status: number, message: string) {
  return { error: { message, type: status === 429 ? "RateLimitError" : "ScriptedError", code: status } };
}

function words(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

function chatCompletion(body: RequestBody, content: string) {
  const prompt = messagesOf(body).reduce((sum, message) => sum + words(String(message.content)), 0);
  const completion = words(content);
  return {
    id: "chatcmpl-arena",
    object: "chat.completion",
    created: 1_700_000_000,
    model: body.model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop", logprobs: null }],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}

function embeddings(body: RequestBody, embed: (text: string) => number[]) {
  const inputs = Array.isArray(body.input) ? (body.input as string[]) : [String(body.input)];
  return {
    object: "list",
    model: body.model,
    data: inputs.map((text, index) => ({ object: "embedding", index, embedding: embed(text) })),
    usage: { prompt_tokens: 0, total_tokens: 0 },
  };
}

const DEFAULT_JUDGE = '{"preferred": "tie", "reason": "scripted"}';

/** Starts the server on a free port of 127.0.0.1. */
export async function startArenaServer(script: ArenaScript = {}): Promise<ArenaServer> {
  const recorded: RecordedCall[] = [];
  const judgeModel = script.judgeModel ?? "judge";
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    const text = await readBody(request);
    let body: RequestBody = {};
    const reply = (status: number, payload: unknown, headers?: Record<string, string>) => {
      recorded.push({ path, body, status });
      send(response, status, payload, headers);
    };
    try {
      body = text === "" ? {} : (JSON.parse(text) as RequestBody);
    } catch {
      reply(400, errorBody(400, "the body is not JSON"));
      return;
    }
    const failFirst = script.failFirst;
    if (failFirst && recorded.length < failFirst.count) {
      const status = failFirst.status ?? 503;
      const headers: Record<string, string> = failFirst.retryAfter
        ? { "retry-after": failFirst.retryAfter }
        : {};
      reply(
        status,
        errorBody(status, `scripted failure ${recorded.length + 1} of ${failFirst.count}`),
        headers,
      );
      return;
    }
    const refused = script.reject?.(path, body);
    if (refused !== undefined) {
      reply(refused, errorBody(refused, `scripted refusal of ${path}`));
      return;
    }
    try {
      if (request.method === "POST" && path === "/v1/chat/completions") {
        const content =
          body.model === judgeModel
            ? (script.judge?.(body) ?? DEFAULT_JUDGE)
            : (script.answer?.(body) ?? "ok");
        reply(200, chatCompletion(body, content));
      } else if (request.method === "POST" && path === "/v1/embeddings") {
        reply(200, embeddings(body, script.embed ?? ((input) => bagOfWords(input))));
      } else {
        reply(404, errorBody(404, `no route ${request.method} ${path}`));
      }
    } catch (error) {
      reply(500, errorBody(500, `the script threw: ${(error as Error).message}`));
    }
  };
  const server = createServer((request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => [...recorded],
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
