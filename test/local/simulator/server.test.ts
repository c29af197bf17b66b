/**
 * One simulated vLLM replica end to end on 127.0.0.1: the OpenAI shapes (streamed and not), the
 * model list and health, vLLM-like errors, seeded error injection, the vLLM metrics matching what
 * was served, prefix-cache hits on a conversation's next turn, queueing and aborts, and effects.
 * Latencies are tiny and assertions are on counts, contents and histogram buckets far apart.
 */
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { type DeploymentBehaviour, deploymentBehaviourSchema } from "../../../local/scenario-schema.ts";
import {
  type RunningSimulator,
  type SimulatorOptions,
  startSimulator,
} from "../../../local/simulator/server.ts";
import { chatSegments } from "../../../local/simulator/text.ts";
import { vllmMetricNames } from "../../../local/simulator/vllm-metrics.ts";
import { eventually, json, postJson, sample, send } from "../../helpers/router-harness.ts";

const MODEL = "acme/llama-3.1-8b-support-ft";
const started: RunningSimulator[] = [];
afterEach(async () => {
  for (const sim of started.splice(0)) await sim.stop();
});

/** A fast, jitter-free, warm behaviour with `overrides`. */
function behaviour(overrides: Record<string, unknown> = {}): DeploymentBehaviour {
  return deploymentBehaviourSchema.parse({
    latency: {
      ttftMs: 1,
      prefillMsPerToken: 0,
      itlMs: 1,
      jitter: 0,
      maxRunning: 4,
      decodeSlowdownPerRunning: 0,
    },
    ...overrides,
  });
}

async function simulator(options: Partial<SimulatorOptions> = {}): Promise<RunningSimulator> {
  const sim = await startSimulator({
    deployment: "chat-8b-support",
    model: MODEL,
    replica: 0,
    behaviour: behaviour(),
    startCold: false,
    seed: 1,
    ...options,
  });
  started.push(sim);
  return sim;
}

const messages = [
  { role: "system", content: "You are the support assistant of an online shop. Be helpful." },
  { role: "user", content: "Where is my order? It has been a week since I paid for it." },
];
const promptTokens = (list: object[]) => chatSegments(list).reduce((sum, segment) => sum + segment.tokens, 0);

interface Chunk {
  object: string;
  model: string;
  choices: { delta: { role?: string; content?: string }; finish_reason: string | null }[];
  usage?: unknown;
}

/** The `data:` payloads of an SSE body, in order. */
function events(body: Buffer): string[] {
  return body
    .toString()
    .split("\n\n")
    .filter((event) => event.startsWith("data: "))
    .map((event) => event.slice("data: ".length));
}

const metricsOf = async (sim: RunningSimulator) => (await send(`${sim.url}/metrics`)).body.toString();
const labels = { model_name: MODEL, engine: "0" };

describe("a chat completion", () => {
  it("answers a non-streamed request with the message, finish_reason length at max_tokens, and usage", async () => {
    const sim = await simulator();
    const answer = await postJson(`${sim.url}/v1/chat/completions`, {
      model: MODEL,
      messages,
      max_tokens: 5,
    });
    expect(answer.status).toBe(200);
    const body = json(answer) as {
      object: string;
      model: string;
      choices: { message: { role: string; content: string }; finish_reason: string }[];
      usage: Record<string, unknown>;
    };
    expect(body.object).toBe("chat.completion");
    expect(body.model).toBe(MODEL);
    expect(body.choices[0]?.message.role).toBe("assistant");
    expect(body.choices[0]?.message.content.split(" ")).toHaveLength(5);
    expect(body.choices[0]?.finish_reason).toBe("length");
    expect(body.usage).toMatchObject({
      prompt_tokens: promptTokens(messages),
      completion_tokens: 5,
      total_tokens: promptTokens(messages) + 5,
    });
  });

  it("stops on its own before a generous max_tokens", async () => {
    const sim = await simulator();
    const answer = json(await postJson(`${sim.url}/v1/chat/completions`, { messages, max_tokens: 1000 })) as {
      choices: { finish_reason: string }[];
      usage: { completion_tokens: number };
    };
    expect(answer.choices[0]?.finish_reason).toBe("stop");
    expect(answer.usage.completion_tokens).toBeLessThan(1000);
  });

  it("streams the role, one token per chunk, the finish, the usage when asked, then [DONE]", async () => {
    const sim = await simulator();
    const answer = await postJson(`${sim.url}/v1/chat/completions`, {
      model: MODEL,
      messages,
      max_tokens: 4,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toContain("text/event-stream");
    const data = events(answer.body);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((text) => JSON.parse(text) as Chunk);
    expect(chunks.every((chunk) => chunk.object === "chat.completion.chunk" && chunk.model === MODEL)).toBe(
      true,
    );
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    const tokens = chunks.slice(1, 5).map((chunk) => chunk.choices[0]?.delta.content ?? "");
    expect(tokens).toHaveLength(4);
    expect(tokens.every((token) => token.length > 0)).toBe(true);
    expect(chunks[5]?.choices[0]).toMatchObject({ delta: {}, finish_reason: "length" });
    expect(chunks[6]).toMatchObject({
      choices: [],
      usage: { prompt_tokens: promptTokens(messages), completion_tokens: 4 },
    });
    expect(chunks).toHaveLength(7);
  });

  it("sends no usage chunk when not asked", async () => {
    const sim = await simulator();
    const answer = await postJson(`${sim.url}/v1/chat/completions`, {
      messages,
      max_tokens: 2,
      stream: true,
    });
    const data = events(answer.body);
    expect(data).toHaveLength(1 + 2 + 1 + 1);
    expect(data.some((text) => text.includes('"usage"'))).toBe(false);
  });
});

describe("a completion", () => {
  it("answers with text, streamed or not", async () => {
    const sim = await simulator();
    const whole = json(
      await postJson(`${sim.url}/v1/completions`, { model: MODEL, prompt: "Hello", max_tokens: 3 }),
    );
    expect(whole).toMatchObject({ object: "text_completion", choices: [{ finish_reason: "length" }] });
    expect((whole as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(3);
    const streamed = await postJson(`${sim.url}/v1/completions`, {
      prompt: ["Hello"],
      max_tokens: 3,
      stream: true,
    });
    const chunks = events(streamed.body)
      .slice(0, -1)
      .map(
        (text) =>
          JSON.parse(text) as { object: string; choices: { text: string; finish_reason: string | null }[] },
      );
    expect(chunks.map((chunk) => chunk.object)).toEqual(Array(4).fill("text_completion"));
    expect(chunks.map((chunk) => chunk.choices[0]?.finish_reason)).toEqual([null, null, null, "length"]);
  });
});

describe("the other endpoints", () => {
  it("lists the served model like vLLM and answers /health with an empty 200", async () => {
    const sim = await simulator();
    const models = json(await send(`${sim.url}/v1/models`));
    expect(models).toMatchObject({
      object: "list",
      data: [{ id: MODEL, object: "model", owned_by: "vllm", root: MODEL }],
    });
    const health = await send(`${sim.url}/health`);
    expect(health.status).toBe(200);
    expect(health.body.length).toBe(0);
  });

  it.each([
    { what: "messages missing", body: { model: MODEL }, param: "messages" },
    { what: "a message without a role", body: { messages: [{ content: "hi" }] }, param: "messages.0.role" },
    { what: "max_tokens 0", body: { messages, max_tokens: 0 }, param: "max_tokens" },
    { what: "stream not a boolean", body: { messages, stream: "yes" }, param: "stream" },
    {
      what: "stream_options without stream",
      body: { messages, stream_options: { include_usage: true } },
      param: "stream_options",
    },
  ])("refuses $what with a 400 naming the field", async ({ body, param }) => {
    const sim = await simulator();
    const answer = await postJson(`${sim.url}/v1/chat/completions`, body);
    expect(answer.status).toBe(400);
    const error = (json(answer) as { error: { message: string; type: string; param: string; code: number } })
      .error;
    expect(error).toMatchObject({ type: "BadRequestError", param, code: 400 });
    expect(error.message).toContain(param);
    expect(sim.stats().requests).toBe(0);
  });

  it("refuses a body that is not JSON, another model, and unknown paths", async () => {
    const sim = await simulator();
    const notJson = await send(`${sim.url}/v1/chat/completions`, { method: "POST", body: "{nope" });
    expect(notJson.status).toBe(400);
    const other = await postJson(`${sim.url}/v1/chat/completions`, { model: "gpt-x", messages });
    expect(other.status).toBe(404);
    expect(json(other)).toMatchObject({ error: { message: "The model `gpt-x` does not exist.", code: 404 } });
    const unknown = await send(`${sim.url}/v1/embeddings`, { method: "POST", body: "{}" });
    expect(unknown.status).toBe(404);
    expect(json(unknown)).toEqual({ detail: "Not Found" });
  });
});

describe("error injection", () => {
  const statuses = async (sim: RunningSimulator, count: number) => {
    const seen: number[] = [];
    for (let i = 0; i < count; i++)
      seen.push((await postJson(`${sim.url}/v1/chat/completions`, { messages, max_tokens: 1 })).status);
    return seen;
  };

  it("fails every request with an OpenAI-style 500 at errorRate 1 and none at 0", async () => {
    const failing = await simulator({ behaviour: behaviour({ errorRate: 1 }) });
    const answer = await postJson(`${failing.url}/v1/chat/completions`, { messages, stream: true });
    expect(answer.status).toBe(500);
    expect(json(answer)).toMatchObject({ error: { type: "InternalServerError", code: 500 } });
    expect(await statuses(failing, 4)).toEqual([500, 500, 500, 500]);
    expect(failing.stats()).toMatchObject({ requests: 5, failed: 5, running: 0, waiting: 0 });
    const healthy = await simulator({ behaviour: behaviour({ errorRate: 0 }) });
    expect(await statuses(healthy, 5)).toEqual([200, 200, 200, 200, 200]);
  });

  it("draws failures from the seed: the same seed fails the same requests, about errorRate of them", async () => {
    const options = { behaviour: behaviour({ errorRate: 0.5 }), seed: 42 };
    const first = await statuses(await simulator(options), 40);
    const again = await statuses(await simulator(options), 40);
    expect(again).toEqual(first);
    const failed = first.filter((status) => status === 500).length;
    expect(failed).toBeGreaterThan(8);
    expect(failed).toBeLessThan(32);
  });
});

describe("the vLLM metrics", () => {
  it("expose vLLM v0.11's names with model_name and engine, counting what was served", async () => {
    const sim = await simulator({ behaviour: behaviour({ prefixCache: { enabled: false } }) });
    const lengths = [3, 5, 2];
    for (const [index, max] of lengths.entries())
      await postJson(`${sim.url}/v1/chat/completions`, {
        messages,
        max_tokens: max,
        stream: index % 2 === 0,
      });
    const text = await metricsOf(sim);
    for (const name of Object.values(vllmMetricNames)) expect(text).toContain(`# TYPE ${name} `);
    const total = lengths.reduce((sum, n) => sum + n, 0);
    expect(sample(text, "vllm:request_success_total", { ...labels, finished_reason: "length" })).toBe(3);
    expect(sample(text, "vllm:request_success_total", { ...labels, finished_reason: "stop" })).toBe(0);
    expect(sample(text, "vllm:generation_tokens_total", labels)).toBe(total);
    expect(sample(text, "vllm:prompt_tokens_total", labels)).toBe(3 * promptTokens(messages));
    expect(sample(text, "vllm:time_to_first_token_seconds_count", labels)).toBe(3);
    expect(sample(text, "vllm:inter_token_latency_seconds_count", labels)).toBe(total - 3);
    expect(sample(text, "vllm:e2e_request_latency_seconds_count", labels)).toBe(3);
    expect(sample(text, "vllm:request_queue_time_seconds_count", labels)).toBe(3);
    expect(sample(text, "vllm:num_requests_running", labels)).toBe(0);
    expect(sample(text, "vllm:num_requests_waiting", labels)).toBe(0);
    expect(sample(text, "vllm:kv_cache_usage_perc", labels)).toBe(0);
    expect(sample(text, "vllm:prefix_cache_queries_total", labels)).toBe(0);
    expect(text).toContain('vllm:time_to_first_token_seconds_bucket{le="2560",model_name=');
  });

  it("count prefix-cache hits for a conversation's second turn, in tokens", async () => {
    const sim = await simulator();
    const first = json(await postJson(`${sim.url}/v1/chat/completions`, { messages, max_tokens: 4 })) as {
      choices: { message: { content: string } }[];
    };
    const reply = { role: "assistant", content: first.choices[0]?.message.content ?? "" };
    const turn2 = [...messages, reply, { role: "user", content: "Can you send it to my office instead?" }];
    const second = json(
      await postJson(`${sim.url}/v1/chat/completions`, { messages: turn2, max_tokens: 4 }),
    ) as {
      usage: { prompt_tokens_details: { cached_tokens: number } };
    };
    const hit = promptTokens([...messages, reply]);
    expect(second.usage.prompt_tokens_details.cached_tokens).toBe(hit);
    expect(sim.stats().prefixHitTokens).toBe(hit);
    const text = await metricsOf(sim);
    expect(sample(text, "vllm:prefix_cache_hits_total", labels)).toBe(hit);
    expect(sample(text, "vllm:prefix_cache_queries_total", labels)).toBe(
      promptTokens(messages) + promptTokens(turn2),
    );
  });
});

/** Starts a streamed chat and resolves once its headers arrived (it was admitted); returns a cutter. */
function openStream(url: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
    });
    req.on("response", (res) => {
      res.resume();
      resolve(() => req.destroy());
    });
    req.on("error", () => undefined);
    req.end(JSON.stringify({ messages, max_tokens: 3, stream: true }));
    setTimeout(() => reject(new Error("no headers")), 5_000).unref();
  });
}

describe("the queue and effects", () => {
  it("queues beyond maxRunning, and a client that goes away frees its slot for the next", async () => {
    const sim = await simulator({
      behaviour: behaviour({ latency: { ttftMs: 1, itlMs: 1, jitter: 0, maxRunning: 1 } }),
    });
    sim.setEffects({ ttftFactor: 60_000 });
    const cut = await openStream(sim.url);
    sim.setEffects({ ttftFactor: 1 });
    const queued = postJson(`${sim.url}/v1/chat/completions`, { messages, max_tokens: 2 });
    await eventually("the second request waits", () => sim.stats().requests === 2);
    expect(sim.stats()).toMatchObject({ running: 1, waiting: 1 });
    expect(sample(await metricsOf(sim), "vllm:num_requests_waiting", labels)).toBe(1);
    cut();
    expect((await queued).status).toBe(200);
    const text = await metricsOf(sim);
    expect(sample(text, "vllm:request_success_total", { ...labels, finished_reason: "abort" })).toBe(1);
    expect(sample(text, "vllm:request_success_total", { ...labels, finished_reason: "length" })).toBe(1);
    expect(sim.stats()).toMatchObject({ running: 0, waiting: 0 });
  });

  it("applies setEffects to the requests that start after it", async () => {
    const sim = await simulator();
    const chat = () => postJson(`${sim.url}/v1/chat/completions`, { messages, max_tokens: 2 });
    await chat();
    sim.setEffects({ ttftFactor: 800, itlFactor: 400 });
    await chat();
    const text = await metricsOf(sim);
    // 1 ms before, 800 ms and 400 ms after: far on either side of the 0.5 s and 0.2 s buckets.
    expect(sample(text, "vllm:time_to_first_token_seconds_bucket", { ...labels, le: "0.5" })).toBe(1);
    expect(sample(text, "vllm:time_to_first_token_seconds_count", labels)).toBe(2);
    expect(sample(text, "vllm:inter_token_latency_seconds_bucket", { ...labels, le: "0.2" })).toBe(1);
    expect(sample(text, "vllm:inter_token_latency_seconds_count", labels)).toBe(2);
    sim.setEffects({ errorRate: 1 });
    expect((await chat()).status).toBe(500);
    expect(sim.stats().failed).toBe(1);
  });

  it("stops with streams in flight, cutting them, and stopping twice is fine", async () => {
    const sim = await simulator();
    sim.setEffects({ ttftFactor: 60_000 });
    await openStream(sim.url);
    await sim.stop();
    await sim.stop();
    expect(sim.stats()).toMatchObject({ running: 0, waiting: 0 });
    await expect(send(`${sim.url}/health`)).rejects.toThrow();
  });
});
