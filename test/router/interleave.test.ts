/** `POST /v1/interleave` and `/v1/interleave/feedback` in-process: the lists, validation, records, metrics. */
import { afterEach, describe, expect, it } from "vitest";
import type { InterleavingRecord } from "../../router/records.ts";
import { seededRandom, teamDraft } from "../../stats/interleaving.ts";
import { json, memoryRecords, postJson, RouterHarness, sample, testSpec } from "../helpers/router-harness.ts";
import type { Patch } from "../spec/spec-fixtures.ts";

const harness = new RouterHarness();
afterEach(() => harness.cleanup());

/** The design article's headphone rankings: A is the control ranker, B the treatment. */
const ARTICLE_A = ["sony", "sennheiser", "audio-technica", "jbl", "anker"];
const ARTICLE_B = ["bose", "sony", "apple", "anker", "jabra"];

/** A second treatment next to the example's one. */
const secondTreatment: Patch = [
  ["variants", "concise"],
  { deployment: "chat-8b", systemPrompt: "Be brief." },
];

async function setup(...patches: Patch[]) {
  const up = await harness.upstream({});
  const sink = memoryRecords();
  const app = await harness.app({ spec: testSpec([up.url], ...patches), records: sink });
  const interleave = (body: unknown) => postJson(`${app.proxyUrl}/v1/interleave`, body);
  const feedback = (body: unknown) => postJson(`${app.proxyUrl}/v1/interleave/feedback`, body);
  return { sink, interleave, feedback, ...app };
}

describe("POST /v1/interleave", () => {
  it("interleaves the article's example for seed 7 exactly as the stats teamDraft does, and records it", async () => {
    const { sink, interleave } = await setup();
    const answer = await interleave({
      queryId: "q-headphones",
      control: ARTICLE_A,
      treatment: ARTICLE_B,
      seed: 7,
    });
    expect(answer.status).toBe(200);
    expect(answer.headers["x-llm-ab-experiment"]).toBe("support-bot-policy-prompt");
    const expected = teamDraft(ARTICLE_A, ARTICLE_B, seededRandom(7)).map(({ item, team }) => ({
      id: item,
      team: team === "A" ? "control" : "treatment",
    }));
    expect(expected.map((e) => e.id)).toEqual([
      "sony",
      "bose",
      "apple",
      "sennheiser",
      "audio-technica",
      "anker",
      "jabra",
    ]);
    expect(json(answer)).toEqual({
      experiment: "support-bot-policy-prompt",
      queryId: "q-headphones",
      seed: 7,
      control: "control",
      treatment: "treatment",
      interleaved: true,
      items: expected,
    });
    expect(sink.records).toEqual([
      {
        type: "interleaving",
        t: expect.any(String),
        experiment: "support-bot-policy-prompt",
        queryId: "q-headphones",
        seed: 7,
        control: "control",
        treatment: "treatment",
        items: expected,
      },
    ]);
  });

  it("echoes the fields of result objects, taking each item from the ranker whose pick placed it", async () => {
    const { interleave } = await setup();
    const control = ARTICLE_A.map((id, rank) => ({ id, source: "bm25", rank }));
    const treatment = ARTICLE_B.map((id, rank) => ({ id, source: "dense", score: 1 - rank / 10 }));
    const answer = json(await interleave({ control, treatment, seed: 7, length: 3 }));
    expect(answer.items).toEqual([
      { id: "sony", team: "control", source: "bm25", rank: 0 },
      { id: "bose", team: "treatment", source: "dense", score: 1 },
      { id: "apple", team: "treatment", source: "dense", score: 0.8 },
    ]);
  });

  it("draws a seed and a queryId when none is given, and the recorded seed replays the list", async () => {
    const { sink, interleave } = await setup();
    const answers = [
      json(await interleave({ control: ARTICLE_A, treatment: ARTICLE_B, unit: "  user-7 " })),
      json(await interleave({ control: ARTICLE_A, treatment: ARTICLE_B })),
    ];
    for (const answer of answers) {
      expect(answer.queryId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      const seed = answer.seed as number;
      expect(Number.isInteger(seed) && seed >= 1 && seed <= 0xffffffff).toBe(true);
      const replay = teamDraft(ARTICLE_A, ARTICLE_B, seededRandom(seed)).map((e) => e.item);
      expect((answer.items as { id: string }[]).map((item) => item.id)).toEqual(replay);
    }
    expect(answers[0]?.queryId).not.toBe(answers[1]?.queryId);
    const records = sink.records as InterleavingRecord[];
    expect(records.map((r) => [r.queryId, r.seed])).toEqual(answers.map((a) => [a.queryId, a.seed]));
    expect(records[0]?.unit).toBe("user-7");
    expect(records[1]).not.toHaveProperty("unit");
  });

  it("names the treatment ranker's variant when the spec has several treatments", async () => {
    const { sink, interleave } = await setup(secondTreatment);
    const answer = json(
      await interleave({ control: ARTICLE_A, treatment: ARTICLE_B, seed: 7, treatmentVariant: "concise" }),
    );
    expect(answer.treatment).toBe("concise");
    expect(new Set((answer.items as { team: string }[]).map((item) => item.team))).toEqual(
      new Set(["control", "concise"]),
    );
    expect(sink.records[0]).toMatchObject({ control: "control", treatment: "concise" });
  });

  it.each([
    {
      name: "refuses an ambiguous treatment, listing the treatments",
      body: {},
      code: "treatment_variant_missing",
      says: ["treatmentVariant: is required", "concise, treatment"],
    },
    {
      name: "refuses a treatmentVariant that is not a treatment",
      body: { treatmentVariant: "control" },
      code: "unknown_variant",
      says: ['treatmentVariant: "control" is not a treatment', "treatments: concise, treatment"],
    },
  ])("$name", async ({ body, code, says }) => {
    const { sink, interleave } = await setup(secondTreatment);
    const answer = await interleave({ control: ARTICLE_A, treatment: ARTICLE_B, ...body });
    expect(answer.status).toBe(400);
    const { error } = json(answer) as { error: { message: string; code: string } };
    expect(error.code).toBe(code);
    for (const fragment of says) expect(error.message).toContain(fragment);
    expect(sink.records).toEqual([]);
  });

  it.each([
    { name: "a missing control list", body: { control: undefined }, says: ["control: is required"] },
    { name: "a control that is not a list", body: { control: "sony" }, says: ["control: must be an array"] },
    { name: "an empty treatment list", body: { treatment: [] }, says: ["treatment: is empty"] },
    { name: "a result that is a number", body: { treatment: ["bose", 7] }, says: ["treatment[1]: must be"] },
    {
      name: "an object without an id",
      body: { control: [{ title: "x" }] },
      says: ["control[0].id: must be"],
    },
    {
      name: "an object with its own team",
      body: { control: [{ id: "sony", team: "red" }] },
      says: ["control[0].team: is reserved"],
    },
    { name: "a seed of 0", body: { seed: 0 }, says: ["seed: must be a whole number from 1 to 4294967295"] },
    { name: "a seed past 32 bits", body: { seed: 2 ** 32 }, says: ["seed: must be"] },
    { name: "a fractional length", body: { length: 2.5 }, says: ["length: must be a whole number"] },
    { name: "a length of 0", body: { length: 0 }, says: ["length: must be"] },
    { name: "an empty queryId", body: { queryId: " " }, says: ["queryId: must be a non-empty string"] },
    {
      name: "a queryId too long",
      body: { queryId: "q".repeat(201) },
      says: ["queryId: must be at most 200"],
    },
    { name: "a unit that is an object", body: { unit: { id: 1 } }, says: ["unit: must be a string"] },
    { name: "an unknown field", body: { ranking: [] }, says: ['unknown field "ranking"', "queryId, unit"] },
    {
      name: "every problem at once",
      body: { control: 1, seed: -1 },
      says: ["control: must be an array", "seed: must be"],
    },
  ])("answers 400 naming the field for $name, writing nothing", async ({ body, says }) => {
    const { sink, interleave } = await setup();
    const answer = await interleave({ control: ARTICLE_A, treatment: ARTICLE_B, ...body });
    expect(answer.status).toBe(400);
    const { error } = json(answer) as { error: { message: string; type: string; code: string } };
    expect(error.code).toBe("invalid_interleave");
    expect(error.type).toBe("invalid_request_error");
    for (const fragment of says) expect(error.message).toContain(fragment);
    expect(sink.records).toEqual([]);
  });

  it("serves the control list alone, unrecorded, while the experiment is paused", async () => {
    const { sink, ctx, interleave } = await setup();
    await ctx.state.apply("pause");
    const answer = json(
      await interleave({ queryId: "q-1", control: ARTICLE_A, treatment: ARTICLE_B, length: 4 }),
    );
    expect(answer).toMatchObject({
      queryId: "q-1",
      interleaved: false,
      reason: expect.stringContaining("paused"),
    });
    expect(answer.items).toEqual(ARTICLE_A.slice(0, 4).map((id) => ({ id, team: "control" })));
    expect(sink.records).toEqual([]);
    expect(sample(await ctx.metrics.metrics(), "llmab_interleaving_queries_total")).toBe(0);
  });

  it("serves the control list alone in rollout mode shadow", async () => {
    const { sink, interleave } = await setup([["rollout"], { mode: "shadow" }]);
    const answer = json(await interleave({ control: ARTICLE_A, treatment: ARTICLE_B }));
    expect(answer).toMatchObject({ interleaved: false, reason: expect.stringContaining("shadow") });
    expect(answer.items).toEqual(ARTICLE_A.map((id) => ({ id, team: "control" })));
    expect(sink.records).toEqual([]);
  });
});

describe("POST /v1/interleave/feedback", () => {
  it("records the clicked items under the queryId and answers with what was recorded", async () => {
    const { sink, feedback } = await setup();
    const answer = await feedback({ queryId: "q-headphones", items: ["bose", "sennheiser"] });
    expect(answer.status).toBe(200);
    expect(answer.headers["x-llm-ab-experiment"]).toBe("support-bot-policy-prompt");
    expect(json(answer)).toEqual({
      experiment: "support-bot-policy-prompt",
      queryId: "q-headphones",
      items: ["bose", "sennheiser"],
    });
    expect(sink.records).toEqual([
      {
        type: "interleaving_feedback",
        t: expect.any(String),
        experiment: "support-bot-policy-prompt",
        queryId: "q-headphones",
        items: ["bose", "sennheiser"],
      },
    ]);
  });

  it.each([
    { name: "a missing queryId", body: { items: ["sony"] }, says: ["queryId: is required"] },
    { name: "missing items", body: { queryId: "q-1" }, says: ["items: is required"] },
    {
      name: "items that are not a list",
      body: { queryId: "q-1", items: "sony" },
      says: ["items: must be an array"],
    },
    { name: "an empty item id", body: { queryId: "q-1", items: ["sony", ""] }, says: ["items[1]: must be"] },
    {
      name: "an unknown field",
      body: { queryId: "q-1", items: [], position: 2 },
      says: ['unknown field "position"', "queryId, items"],
    },
  ])("answers 400 naming the field for $name, writing nothing", async ({ body, says }) => {
    const { sink, feedback } = await setup();
    const answer = await feedback(body);
    expect(answer.status).toBe(400);
    const { error } = json(answer) as { error: { message: string; code: string } };
    expect(error.code).toBe("invalid_feedback");
    for (const fragment of says) expect(error.message).toContain(fragment);
    expect(sink.records).toEqual([]);
  });
});

describe("interleaving metrics", () => {
  it("count interleaved lists and feedback posts per experiment, from zero", async () => {
    const { ctx, interleave, feedback } = await setup();
    const labels = { experiment: "support-bot-policy-prompt" };
    let text = await ctx.metrics.metrics();
    expect(sample(text, "llmab_interleaving_queries_total", labels)).toBe(0);
    expect(sample(text, "llmab_interleaving_feedback_total", labels)).toBe(0);
    await interleave({ queryId: "q-1", control: ARTICLE_A, treatment: ARTICLE_B });
    await interleave({ queryId: "q-2", control: ARTICLE_A, treatment: ARTICLE_B });
    await interleave({ control: [] });
    await feedback({ queryId: "q-1", items: ["sony"] });
    text = await ctx.metrics.metrics();
    expect(sample(text, "llmab_interleaving_queries_total", labels)).toBe(2);
    expect(sample(text, "llmab_interleaving_feedback_total", labels)).toBe(1);
  });
});
