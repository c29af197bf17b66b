/**
 * One simulated vLLM replica behind an OpenAI-compatible HTTP server on 127.0.0.1, as vLLM's
 * `vllm serve` answers: `POST /v1/chat/completions` and `/v1/completions` (streamed or not),
 * `GET /v1/models`, `GET /health` and `GET /metrics` (vLLM v0.11's engine metrics). Requests are
 * validated here (`openai-shapes.ts`) and answered by the replica's engine (`engine.ts`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createEngine,
  type EngineOptions,
  type EngineStats,
  type SimulatedEngine,
  type SimulatorEffects,
  sendJson,
} from "./engine.ts";
import { errorBody, modelsBody, parseGenerationRequest } from "./openai-shapes.ts";

export type { SimulatorEffects } from "./engine.ts";

/** A replica's engine options (engine.ts), where it listens, and an optional clock. */
export interface SimulatorOptions extends Omit<EngineOptions, "now"> {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (a free port). */
  readonly port?: number;
  /** Monotonic clock in ms used for scheduling and measuring. Default `performance.now`. */
  readonly now?: () => number;
}

export interface RunningSimulator {
  /** e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly deployment: string;
  readonly replica: number;
  /** Merges `effects` into the current ones; requests admitted later see them. */
  setEffects(effects: SimulatorEffects): void;
  /** Generation requests accepted and failed (injected 500s), slots in use, queue, prefix-cache hit tokens. */
  stats(): EngineStats;
  /** Aborts streams in flight and closes the server. Idempotent. */
  stop(): Promise<void>;
}

/** The JSON of a request body; undefined when it is not JSON. */
async function readBody(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  try {
    return JSON.parse(Buffer.concat(parts).toString());
  } catch {
    return undefined;
  }
}

/** Validates a generation request and hands it to the engine, or answers vLLM's 400 / 404. */
async function generate(
  engine: SimulatedEngine,
  model: string,
  req: IncomingMessage,
  res: ServerResponse,
  chat: boolean,
): Promise<void> {
  const body = await readBody(req);
  const parsed =
    body === undefined
      ? errorBody(400, "BadRequestError", "The request body is not valid JSON.")
      : parseGenerationRequest(body, chat);
  if ("status" in parsed) return sendJson(res, parsed.status, parsed.body);
  if (parsed.model !== undefined && parsed.model !== model) {
    const notFound = errorBody(
      404,
      "NotFoundError",
      `The model \`${parsed.model}\` does not exist.`,
      "model",
    );
    return sendJson(res, notFound.status, notFound.body);
  }
  engine.submit(parsed, res);
}

const KNOWN_PATHS = ["/v1/chat/completions", "/v1/completions", "/health", "/v1/models", "/metrics"];

/** Starts one simulated replica; resolves once it listens. */
export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const { model, deployment, replica } = options;
  const engine = createEngine({ ...options, now: options.now ?? (() => performance.now()) });
  const { registry } = engine.metrics;

  // A client that goes away mid-body rejects the body read: drop that response, never the process
  // (the simulators share the demo's process with the router).
  const answer = (req: IncomingMessage, res: ServerResponse, chat: boolean) =>
    void generate(engine, model, req, res, chat).catch(() => res.destroy());
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const route = `${req.method} ${path}`;
    if (route === "POST /v1/chat/completions") return answer(req, res, true);
    if (route === "POST /v1/completions") return answer(req, res, false);
    if (route === "GET /health") {
      res.writeHead(200, { "content-length": 0 });
      res.end();
      return;
    }
    if (route === "GET /v1/models")
      return sendJson(res, 200, modelsBody(model, Math.floor(Date.now() / 1000)));
    if (route === "GET /metrics") {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { "content-type": registry.contentType });
          res.end(text);
        },
        () => res.destroy(),
      );
      return;
    }
    // FastAPI's answers, which vLLM's server gives for these.
    if (KNOWN_PATHS.includes(path)) return sendJson(res, 405, { detail: "Method Not Allowed" });
    sendJson(res, 404, { detail: "Not Found" });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let stopping: Promise<void> | undefined;

  return {
    url: `http://${host}:${address.port}`,
    deployment,
    replica,
    setEffects: (effects) => engine.setEffects(effects),
    stats: () => engine.stats(),
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        engine.abortAll();
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return stopping;
    },
  };
}
