/** The generation runner: request bodies shaped as the spec's variants, retries, cache, failures, progress. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ResultsCache } from "../../arena/cache.ts";
import { type GenerateOptions, type GenerateProgress, generate } from "../../arena/generate.ts";
import type { GoldenCase } from "../../arena/types.ts";
import { PROMPT_SEPARATOR } from "../../router/shaping.ts";
import { parseSpec } from "../../spec/load.ts";
import {
  type ArenaScript,
  type ArenaServer,
  lastUserText,
  startArenaServer,
} from "../helpers/arena-server.ts";
import { exampleInput, type Patch, patched } from "../spec/spec-fixtures.ts";

const CONTROL_PROMPT = "Be helpful.";
const MODEL = "meta-llama/Llama-3.1-8B-Instruct";

const cases: GoldenCase[] = [
  {
    id: "late-package",
    messages: [{ role: "user", content: "My package has not arrived after 8 days." }],
    context: "Order #51200, shipped standard; policy: refund or reship after 7 business days.",
    reference: "Sorry! Past 7 business days we can reship or refund order #51200.",
    tags: ["shipping"],
    checks: [],
  },
  {
    id: "double-charge",
    messages: [
      { role: "user", content: "I was charged twice." },
      { role: "assistant", content: "Which order?" },
      { role: "user", content: "Order #44129." },
    ],
    tags: ["critical"],
    checks: [],
  },
  {
    id: "own-system",
    messages: [
      { role: "system", content: "The app's own instructions." },
      { role: "user", content: "Can I change my address?" },
    ],
    context: "Order #60001 is pending.",
    tags: [],
    checks: [],
  },
];

let server: ArenaServer;
let dir: string;

async function serve(script: ArenaScript = {}) {
  server = await startArenaServer({ answer: (body) => `answer to: ${lastUserText(body)}`, ...script });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "arena-generate-"));
});
afterEach(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function specWith(patches: readonly Patch[] = []) {
  return parseSpec(
    patched(exampleInput(), [[["deployments", "chat-8b", "endpoints"], [server.url]], ...patches]),
  );
}

function options(extra: Partial<GenerateOptions> = {}): GenerateOptions {
  return { spec: specWith(), cases, seed: 7, maxTokens: 256, post: { backoffBaseMs: 1 }, ...extra };
}

/** The recorded chat request of one case and system prompt. */
function sent(caseUser: string, systemStart: string) {
  const call = server
    .calls()
    .find(
      (each) =>
        lastUserText(each.body) === caseUser &&
        String((each.body.messages as { content: string }[])[0]?.content).startsWith(systemStart),
    );
  if (!call) throw new Error(`no request for "${caseUser}" with system prompt "${systemStart}"`);
  return call.body;
}

describe("generate", () => {
  it("sends one system message, the variant's prompt then the context, then the conversation, greedy and seeded", async () => {
    await serve();
    await generate(options());
    const body = sent("My package has not arrived after 8 days.", CONTROL_PROMPT);
    expect(body).toEqual({
      model: MODEL,
      messages: [
        // One system message: many chat templates accept no second one, and production sends one.
        { role: "system", content: `${CONTROL_PROMPT}${PROMPT_SEPARATOR}${cases[0]?.context}` },
        { role: "user", content: "My package has not arrived after 8 days." },
      ],
      temperature: 0,
      seed: 7,
      max_tokens: 256,
    });
    const treatment = sent("My package has not arrived after 8 days.", "Be helpful, cite");
    expect((treatment.messages as { role: string }[]).map((message) => message.role)).toEqual([
      "system",
      "user",
    ]);
  });

  it("keeps a multi-turn conversation in order after the system prompt when the case has no context", async () => {
    await serve();
    await generate(options());
    const body = sent("Order #44129.", CONTROL_PROMPT);
    expect(body.messages).toEqual([
      { role: "system", content: CONTROL_PROMPT },
      ...(cases[1]?.messages ?? []),
    ]);
  });

  it("replaces a case's own system message with the variant's and joins the context to it", async () => {
    await serve();
    await generate(options());
    const body = sent("Can I change my address?", CONTROL_PROMPT);
    expect(body.messages).toEqual([
      { role: "system", content: `${CONTROL_PROMPT}${PROMPT_SEPARATOR}Order #60001 is pending.` },
      { role: "user", content: "Can I change my address?" },
    ]);
  });

  it("sends a variant's own temperature, model and max_tokens instead of the defaults", async () => {
    await serve();
    const spec = specWith([
      [["variants", "treatment", "params"], { temperature: 0.7, max_tokens: 64 }],
      [["variants", "treatment", "model"], "support-lora"],
    ]);
    const { generations } = await generate(options({ spec, cases: cases.slice(0, 1) }));
    const treatment = generations.find((generation) => generation.arm === "treatment");
    expect(treatment).toMatchObject({
      model: "support-lora",
      params: { temperature: 0.7, seed: 7, max_tokens: 64 },
      seed: 7,
    });
    expect(sent("My package has not arrived after 8 days.", "Be helpful, cite")).toMatchObject({
      model: "support-lora",
      temperature: 0.7,
      max_tokens: 64,
    });
  });

  it("records model, parameters, seed, endpoint, usage and attempts per call, in case order", async () => {
    await serve({ failFirst: { count: 1, status: 503 } });
    const { generations, failures } = await generate(options({ concurrency: 1 }));
    expect(failures).toEqual([]);
    expect(generations.map((each) => `${each.caseId}/${each.arm}`)).toEqual([
      "late-package/control",
      "late-package/treatment",
      "double-charge/control",
      "double-charge/treatment",
      "own-system/control",
      "own-system/treatment",
    ]);
    expect(generations[0]).toMatchObject({
      caseId: "late-package",
      variant: "control",
      arm: "control",
      deployment: "chat-8b",
      endpoint: server.url,
      model: MODEL,
      params: { temperature: 0, seed: 7, max_tokens: 256 },
      seed: 7,
      text: "answer to: My package has not arrived after 8 days.",
      finishReason: "stop",
      attempts: 2,
    });
    expect(generations[0]?.requestHash).toMatch(/^[0-9a-f]{64}$/);
    expect(generations[0]?.usage?.completionTokens).toBe(10);
    expect(generations.slice(1).every((each) => each.attempts === 1)).toBe(true);
  });

  it("makes no call on a rerun with the same cache, and reports every answer as cached", async () => {
    await serve();
    await generate(options({ cache: new ResultsCache(dir) }));
    const calls = server.calls().length;
    expect(calls).toBe(6);
    const progress: GenerateProgress[] = [];
    const rerun = await generate(
      options({ cache: new ResultsCache(dir), onProgress: (p) => progress.push(p) }),
    );
    expect(server.calls()).toHaveLength(calls);
    expect(rerun.generations).toHaveLength(6);
    expect(progress.at(-1)).toEqual({ done: 6, total: 6, cached: 6, failed: 0 });
  });

  it("calls again only for the arm whose prompt changed", async () => {
    await serve();
    await generate(options({ cache: new ResultsCache(dir) }));
    const spec = specWith([[["variants", "treatment", "systemPrompt"], "A new treatment prompt."]]);
    await generate(options({ spec, cache: new ResultsCache(dir) }));
    expect(server.calls()).toHaveLength(6 + 3);
  });

  it("reports a call that still fails, naming case and arm, and returns the other answers", async () => {
    await serve({
      reject: (_path, body) =>
        lastUserText(body) === "Order #44129." &&
        String((body.messages as { content: string }[])[0]?.content).startsWith("Be helpful, cite")
          ? 400
          : undefined,
    });
    const progress: GenerateProgress[] = [];
    const { generations, failures } = await generate(options({ onProgress: (p) => progress.push(p) }));
    expect(generations).toHaveLength(5);
    expect(failures).toEqual([
      {
        caseId: "double-charge",
        arm: "treatment",
        variant: "treatment",
        deployment: "chat-8b",
        endpoint: server.url,
        message: expect.stringContaining("HTTP 400: scripted refusal"),
      },
    ]);
    expect(progress.at(-1)).toEqual({ done: 6, total: 6, cached: 0, failed: 1 });
  });

  it("uses the endpoint given for a deployment over the spec's", async () => {
    await serve();
    const spec = parseSpec(
      patched(exampleInput(), [[["deployments", "chat-8b", "endpoints"], ["http://127.0.0.1:9"]]]),
    );
    const { failures } = await generate(options({ spec, endpoints: { "chat-8b": server.url } }));
    expect(failures).toEqual([]);
    expect(server.calls()).toHaveLength(6);
  });

  it("refuses to start when a deployment has no endpoint, naming it", async () => {
    await serve();
    const spec = parseSpec(patched(exampleInput(), [[["deployments", "chat-8b", "endpoints"], undefined]]));
    await expect(generate(options({ spec }))).rejects.toThrow('deployment "chat-8b" has no endpoint');
    expect(server.calls()).toEqual([]);
  });

  it("refuses a variant name the spec does not have", async () => {
    await serve();
    await expect(generate(options({ variants: { treatment: "nope" } }))).rejects.toThrow(
      'the treatment variant "nope" is not in the spec (variants: control, treatment)',
    );
  });

  it("refuses a dataset with a repeated case id", async () => {
    await serve();
    await expect(
      generate(options({ cases: [cases[0] as GoldenCase, cases[0] as GoldenCase] })),
    ).rejects.toThrow('case id "late-package" appears twice');
  });
});
