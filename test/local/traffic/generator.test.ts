import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  outcomeDrawSchema,
  type Scenario,
  type TrafficModel,
  trafficSchema,
} from "../../../local/scenario-schema.ts";
import {
  type ConversationPlan,
  pickByShare,
  planConversation,
} from "../../../local/traffic/conversations.ts";
import { runTraffic, type TrafficOptions, type TrafficSnapshot } from "../../../local/traffic/generator.ts";
import { outcomeValue } from "../../../local/traffic/outcomes.ts";
import { loadSpecFile } from "../../../spec/load.ts";
import { normQuantile } from "../../../stats/distributions.ts";

const spec = await loadSpecFile("examples/support-bot-fine-tune.yaml");
const metrics = ["csat", "resolution_rate"];
const outcomes: Scenario["outcomes"] = {
  control: {
    resolution_rate: outcomeDrawSchema.parse({ probability: 0.55, ifError: 0 }),
    csat: outcomeDrawSchema.parse({ mean: 3.6, sd: 1, min: 1, max: 5, round: true, reportShare: 0.5 }),
  },
  treatment: {
    resolution_rate: outcomeDrawSchema.parse({ probability: 0.7, ifError: 0 }),
    csat: outcomeDrawSchema.parse({ mean: 3.9, sd: 1, min: 1, max: 5, round: true, reportShare: 0.5 }),
  },
};
// Many short conversations, quick thinkers: a second of traffic exercises every path.
const traffic: TrafficModel = trafficSchema.parse({
  conversationsPerSecond: 60,
  users: 20,
  turns: { min: 1, max: 4 },
  thinkSeconds: { min: 0, max: 0.03 },
  promptTokens: { min: 3, max: 30 },
  maxTokens: { min: 4, max: 12 },
  streamShare: 0.5,
});

/** What the fake router does with turn `turn` (0-based) of `conversation`. */
type Behaviour = "answer" | "error" | "cut" | "reset" | "hang";

interface ChatRecord {
  readonly router: string;
  readonly conversation: string;
  readonly turn: number;
  readonly body: {
    model: string;
    user: string;
    messages: { role: string; content: string }[];
    max_tokens: number;
    stream: boolean;
    stream_options?: { include_usage: boolean };
  };
}

interface OutcomeRecord {
  readonly router: string;
  readonly unit: string;
  readonly metric: string;
  readonly value: number;
}

interface FakeRouter {
  readonly url: string;
  readonly chats: ChatRecord[];
  readonly outcomes: OutcomeRecord[];
  /** Hanging requests whose client went away. */
  readonly abandoned: () => number;
  /** Resolves once `count` chat requests arrived. */
  readonly received: (count: number) => Promise<void>;
  readonly close: () => Promise<void>;
}

/** The variant the fake router serves a conversation: a hash of its id, as a real router's is. */
function variantOf(conversation: string): string {
  return createHash("sha256").update(conversation).digest()[0]! % 2 === 0 ? "control" : "treatment";
}

/** The answer the fake router gives turn `turn` of `conversation`, so tests can find it in the history. */
function answerOf(conversation: string, turn: number): string {
  return `answer ${turn} to ${conversation}: have you tried turning it off and on again?`;
}

const started: FakeRouter[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((router) => router.close()));
});

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function sse(res: ServerResponse, conversation: string, text: string, done: boolean): void {
  res.writeHead(200, { "content-type": "text/event-stream", "x-llm-ab-variant": variantOf(conversation) });
  const events = [
    { choices: [{ index: 0, delta: { role: "assistant", content: "" } }] },
    ...text.split(/(?<= )/).map((word) => ({ choices: [{ index: 0, delta: { content: word } }] })),
    { choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
    { choices: [], usage: { prompt_tokens: 10, completion_tokens: 5 } },
  ];
  const wire = `${events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join("")}${done ? "data: [DONE]\n\n" : ""}`;
  // Odd-sized writes, so events and lines straddle chunks as they do over a real network.
  for (let at = 0; at < wire.length; at += 37) res.write(wire.slice(at, at + 37));
  res.end();
}

async function startFakeRouter(
  name: string,
  behave: (conversation: string, turn: number) => Behaviour,
): Promise<FakeRouter> {
  const chats: ChatRecord[] = [];
  const outcomeRecords: OutcomeRecord[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let abandoned = 0;
  const server = createServer(async (req, res) => {
    const body = await readJson(req);
    if (req.url === "/v1/outcomes") {
      const { unit, metric, value } = body as { unit: string; metric: string; value: number };
      outcomeRecords.push({ router: name, unit, metric, value });
      res.writeHead(202, { "content-type": "application/json" }).end("{}");
      return;
    }
    const conversation = String(req.headers["x-llm-ab-conversation"]);
    const chat = body as ChatRecord["body"];
    const turn = (chat.messages.length - 1) / 2;
    chats.push({ router: name, conversation, turn, body: chat });
    for (const waiter of waiters) if (chats.length >= waiter.count) waiter.resolve();
    const text = answerOf(conversation, turn);
    const variant = variantOf(conversation);
    switch (behave(conversation, turn)) {
      case "answer":
        if (chat.stream) sse(res, conversation, text, true);
        else
          res
            .writeHead(200, { "content-type": "application/json", "x-llm-ab-variant": variant })
            .end(JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content: text } }] }));
        return;
      case "error":
        res
          .writeHead(500, { "content-type": "application/json", "x-llm-ab-variant": variant })
          .end(JSON.stringify({ error: { message: "upstream failed" } }));
        return;
      case "cut":
        if (chat.stream) sse(res, conversation, text, false);
        else {
          res.writeHead(200, {
            "content-type": "application/json",
            "x-llm-ab-variant": variant,
            "content-length": "500",
          });
          res.write('{"choices":[{"index":0,"mess');
          setTimeout(() => res.destroy(), 5);
        }
        return;
      case "reset":
        req.socket.destroy();
        return;
      case "hang":
        res.on("close", () => {
          if (!res.writableEnded) abandoned++;
        });
        return;
    }
  });
  server.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  const router: FakeRouter = {
    url: `http://127.0.0.1:${port}`,
    chats,
    outcomes: outcomeRecords,
    abandoned: () => abandoned,
    received: (count) =>
      new Promise((resolve) => {
        if (chats.length >= count) resolve();
        else waiters.push({ count, resolve });
      }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  started.push(router);
  return router;
}

function options(
  routers: readonly { url: string; share: number }[],
  extra: Partial<TrafficOptions> = {},
): TrafficOptions {
  return { targets: routers, spec, traffic, outcomes, seed: 7, durationMs: 600, drainMs: 20_000, ...extra };
}

function plansOf(count: number, seed = 7): ConversationPlan[] {
  return Array.from({ length: count }, (_, index) => planConversation(seed, index, traffic, metrics));
}

function byConversation<T extends { conversation?: string; unit?: string }>(
  records: readonly T[],
): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const record of records) {
    const key = record.conversation ?? record.unit!;
    map.set(key, [...(map.get(key) ?? []), record]);
  }
  return map;
}

/** The outcome posts a conversation should make: `[metric, value]`, sorted. */
function expectedOutcomes(plan: ConversationPlan, failed: boolean): [string, number][] {
  const draws = outcomes[variantOf(plan.id)]!;
  return metrics.flatMap((metric): [string, number][] => {
    const value = outcomeValue(draws[metric]!, plan.outcomeNoise[metric]!, failed);
    return value === undefined ? [] : [[metric, value]];
  });
}

describe("runTraffic", () => {
  it("sends every conversation's turns as drawn, the history growing turn by turn", async () => {
    const router = await startFakeRouter("a", () => "answer");
    const summary = await runTraffic(options([{ url: router.url, share: 1 }]));

    expect(summary.conversations).toBeGreaterThan(5);
    expect(summary.failedRequests).toBe(0);
    const chats = byConversation(router.chats);
    const plans = plansOf(summary.conversations);
    expect([...chats.keys()].sort()).toEqual(plans.map((plan) => plan.id).sort());
    for (const plan of plans) {
      const turns = chats.get(plan.id)!;
      expect(turns.map((chat) => chat.turn)).toEqual(plan.turns.map((_, i) => i));
      turns.forEach((chat, i) => {
        const turn = plan.turns[i]!;
        const history = plan.turns.slice(0, i).flatMap((earlier, j) => [
          { role: "user", content: earlier.content },
          { role: "assistant", content: answerOf(plan.id, j) },
        ]);
        expect(chat.body).toEqual({
          model: "support-bot",
          user: plan.user,
          messages: [...history, { role: "user", content: turn.content }],
          max_tokens: turn.maxTokens,
          stream: turn.stream,
          ...(turn.stream ? { stream_options: { include_usage: true } } : {}),
        });
      });
    }
    expect(summary.requests).toBe(router.chats.length);
    const served: Record<string, number> = {};
    for (const chat of router.chats)
      served[variantOf(chat.conversation)] = (served[variantOf(chat.conversation)] ?? 0) + 1;
    expect(summary.requestsByVariant).toEqual(served);
  });

  it("posts each conversation's outcomes as drawn for the variant that served it", async () => {
    const router = await startFakeRouter("a", () => "answer");
    const summary = await runTraffic(options([{ url: router.url, share: 1 }]));

    const posted = byConversation(router.outcomes);
    let expectedCount = 0;
    for (const plan of plansOf(summary.conversations)) {
      const expected = expectedOutcomes(plan, false);
      expectedCount += expected.length;
      const actual = (posted.get(plan.id) ?? []).map((o): [string, number] => [o.metric, o.value]);
      expect(actual.sort()).toEqual(expected);
    }
    expect(router.outcomes).toHaveLength(expectedCount);
    expect(summary.outcomesSent).toBe(expectedCount);
    expect(summary.outcomesRefused).toBe(0);
  });

  it("ends a conversation at its failed turn and reports its outcomes with ifError", async () => {
    // Conversation n fails at turn n mod 3 with the failure kind n mod 4 picks (0: none).
    const kinds: Behaviour[] = ["answer", "error", "cut", "reset"];
    const failure = (conversation: string) => {
      const n = Number(conversation.split("-")[2]);
      return { kind: kinds[n % 4]!, turn: n % 3 };
    };
    const router = await startFakeRouter("a", (conversation, turn) => {
      const { kind, turn: at } = failure(conversation);
      return turn === at ? kind : "answer";
    });
    const summary = await runTraffic(options([{ url: router.url, share: 1 }], { durationMs: 800 }));

    const chats = byConversation(router.chats);
    const posted = byConversation(router.outcomes);
    let failures = 0;
    for (const plan of plansOf(summary.conversations)) {
      const { kind, turn } = failure(plan.id);
      const failed = kind !== "answer" && turn < plan.turns.length;
      if (failed) failures++;
      expect(chats.get(plan.id)).toHaveLength(failed ? turn + 1 : plan.turns.length);
      // A connection reset on the first turn leaves no variant to report outcomes for.
      const expected = failed && kind === "reset" && turn === 0 ? [] : expectedOutcomes(plan, failed);
      const actual = (posted.get(plan.id) ?? []).map((o): [string, number] => [o.metric, o.value]);
      expect(actual.sort(), plan.id).toEqual(expected);
      if (failed && expected.length > 0) expect(actual).toContainEqual(["resolution_rate", 0]);
    }
    expect(failures).toBeGreaterThan(3);
    expect(summary.failedRequests).toBe(failures);
    expect(summary.requests).toBe(router.chats.length);
  });

  it("stops at once on abort, cutting the requests in flight, and resolves with what happened", async () => {
    const router = await startFakeRouter("a", () => "hang");
    const controller = new AbortController();
    const snapshots: TrafficSnapshot[] = [];
    const run = runTraffic(
      options([{ url: router.url, share: 1 }], {
        durationMs: 600_000,
        drainMs: 600_000,
        signal: controller.signal,
        onProgress: (snapshot) => snapshots.push(snapshot),
      }),
    );
    await router.received(5);
    controller.abort();
    const summary = await run;

    expect(summary.requests).toBeGreaterThanOrEqual(5);
    expect(summary.failedRequests).toBe(summary.requests);
    expect(summary.outcomesSent).toBe(0);
    expect(router.outcomes).toHaveLength(0);
    await expect.poll(() => router.abandoned()).toBe(router.chats.length);
    const last = snapshots.at(-1)!;
    expect(last).toMatchObject({ inFlight: 0, conversationsFinished: 0, requests: summary.requests });
  });

  it("cuts the conversations still running when the drain ends", async () => {
    const router = await startFakeRouter("a", () => "hang");
    const summary = await runTraffic(
      options([{ url: router.url, share: 1 }], { durationMs: 300, drainMs: 300 }),
    );

    expect(summary.conversations).toBeGreaterThan(0);
    // Every conversation was stuck in its first turn: one request each, all failed, no outcomes.
    expect(summary.requests).toBe(summary.conversations);
    expect(summary.failedRequests).toBe(summary.requests);
    expect(summary.outcomesSent).toBe(0);
    expect(router.outcomes).toHaveLength(0);
    await expect.poll(() => router.abandoned()).toBe(router.chats.length);
  });

  it("sends each request to the router its draw picks, by share", async () => {
    const a = await startFakeRouter("a", () => "answer");
    const b = await startFakeRouter("b", () => "answer");
    const shares = [3, 1];
    const summary = await runTraffic(
      options(
        [
          { url: a.url, share: shares[0]! },
          { url: b.url, share: shares[1]! },
        ],
        { traffic: { ...traffic, conversationsPerSecond: 200 }, durationMs: 1000 },
      ),
    );

    const chats = byConversation([...a.chats, ...b.chats]);
    const outcomesBy = byConversation([...a.outcomes, ...b.outcomes]);
    const plans = Array.from({ length: summary.conversations }, (_, index) =>
      planConversation(7, index, { ...traffic, conversationsPerSecond: 200 }, metrics),
    );
    for (const plan of plans) {
      const turns = chats.get(plan.id)!.sort((x, y) => x.turn - y.turn);
      const routers = turns.map((chat) => chat.router);
      expect(routers).toEqual(plan.turns.map((turn) => ["a", "b"][pickByShare(shares, turn.route)]));
      for (const outcome of outcomesBy.get(plan.id) ?? [])
        expect(outcome.router).toBe(["a", "b"][pickByShare(shares, plan.outcomeRoute)]);
    }
    const n = a.chats.length + b.chats.length;
    expect(n).toBeGreaterThan(200);
    const z = normQuantile(1 - 0.5e-6);
    expect(Math.abs(a.chats.length - n * 0.75)).toBeLessThan(z * Math.sqrt(n * 0.75 * 0.25));
  });

  it("refuses scenario outcomes that do not match the spec before sending anything", async () => {
    const router = await startFakeRouter("a", () => "answer");
    const { csat: _, ...withoutCsat } = outcomes.treatment!;
    await expect(
      runTraffic(
        options([{ url: router.url, share: 1 }], { outcomes: { ...outcomes, treatment: withoutCsat } }),
      ),
    ).rejects.toThrow(/outcomes\.treatment\.csat is missing/);
    expect(router.chats).toHaveLength(0);
  });
});
