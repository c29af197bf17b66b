/** `POST /v1/outcomes` in-process: validation, the unit's variant lookup, metrics and records. */
import { afterEach, describe, expect, it } from "vitest";
import {
  chatTurn,
  json,
  memoryRecords,
  postJson,
  RouterHarness,
  sample,
  testSpec,
  unitsOf,
} from "../helpers/router-harness.ts";

const harness = new RouterHarness();
afterEach(() => harness.cleanup());

/** A ratio metric next to the example's binary primary and continuous secondary. */
const ratioMetric: [readonly (string | number)[], unknown] = [
  ["metrics", "secondary", 1],
  { name: "tokens_per_resolution", kind: "ratio", numerator: "answer_tokens", denominator: "resolutions" },
];

async function setup() {
  const up = await harness.upstream({});
  const spec = testSpec([up.url], [["rollout", "treatmentPercent"], 50], ratioMetric);
  const sink = memoryRecords();
  const app = await harness.app({ spec, records: sink });
  const outcome = (body: unknown, headers: Record<string, string> = {}) =>
    postJson(`${app.proxyUrl}/v1/outcomes`, body, headers);
  return { spec, sink, outcome, ...app };
}

describe("accepted outcomes", () => {
  it("are counted under the unit's assigned variant and written as outcome records", async () => {
    const { spec, sink, ctx, proxyUrl, outcome } = await setup();
    const [unit] = unitsOf(spec, "treatment", 1);
    await chatTurn(proxyUrl, unit);
    const answer = await outcome({ unit, metric: "resolution_rate", value: 1, requestId: "r-9" });
    expect(answer.status).toBe(200);
    expect(answer.headers["x-llm-ab-variant"]).toBe("treatment");
    expect(json(answer)).toMatchObject({ unit, variant: "treatment", assignment: "stored" });
    await outcome({ unit, metric: "response_tokens", value: 3 });
    expect(sink.records.filter((record) => record.type === "outcome")).toEqual([
      expect.objectContaining({
        unit,
        variant: "treatment",
        metric: "resolution_rate",
        value: 1,
        requestId: "r-9",
      }),
      expect.objectContaining({ unit, variant: "treatment", metric: "response_tokens", value: 3 }),
    ]);
    const metrics = await ctx.metrics.metrics();
    const labels = { variant: "treatment", metric: "response_tokens" };
    expect(sample(metrics, "llmab_outcome_observations_total", labels)).toBe(1);
    expect(sample(metrics, "llmab_outcome_sum", labels)).toBe(3);
    expect(sample(metrics, "llmab_outcome_sum_of_squares", labels)).toBe(9);
  });

  it("read the unit from the request's unit sources when the body has none", async () => {
    const { spec, outcome } = await setup();
    const [unit] = unitsOf(spec, "control", 1);
    const answer = await outcome(
      { metric: "resolution_rate", value: 0 },
      { "x-llm-ab-unit": unit as string },
    );
    expect(json(answer)).toMatchObject({ unit, variant: "control" });
  });

  it("go to the assigned variant while the experiment is paused (intent to treat)", async () => {
    const { spec, ctx, proxyUrl, outcome } = await setup();
    const [unit] = unitsOf(spec, "treatment", 1);
    await chatTurn(proxyUrl, unit);
    await ctx.state.apply("pause");
    expect(json(await outcome({ unit, metric: "resolution_rate", value: 1 }))).toMatchObject({
      variant: "treatment",
    });
  });

  it("look a unit the store does not hold up by its hash, without storing it", async () => {
    const { spec, ctx, outcome } = await setup();
    const [unit] = unitsOf(spec, "treatment", 1, "never-seen");
    expect(json(await outcome({ unit, metric: "resolution_rate", value: 1 }))).toMatchObject({
      variant: "treatment",
      assignment: "hash",
    });
    expect(await ctx.store.get(ctx.runtime.assigner.namespace, unit as string)).toBeUndefined();
    expect(sample(await ctx.metrics.metrics(), "llmab_assignments_total")).toBeUndefined();
  });

  it("take the numerator and denominator fields of ratio metrics", async () => {
    const { outcome } = await setup();
    expect((await outcome({ unit: "u", metric: "answer_tokens", value: 120 })).status).toBe(200);
    expect((await outcome({ unit: "u", metric: "resolutions", value: 1 })).status).toBe(200);
  });
});

describe("refused outcomes", () => {
  const cases: { name: string; body: unknown; headers?: Record<string, string>; says: string[] }[] = [
    {
      name: "an unknown metric, listing the known ones",
      body: { unit: "u", metric: "resolution", value: 1 },
      says: [
        'metric "resolution" is not an outcome',
        "known: resolution_rate, response_tokens, answer_tokens",
      ],
    },
    {
      name: "a binary metric with a value other than 0 or 1",
      body: { unit: "u", metric: "resolution_rate", value: 2 },
      says: ["binary metric, so value must be 0 or 1, got 2"],
    },
    {
      name: "a missing value",
      body: { unit: "u", metric: "resolution_rate" },
      says: ["value: is required"],
    },
    {
      name: "a value that is not a number",
      body: { unit: "u", metric: "response_tokens", value: "12" },
      says: ["value: must be a finite number"],
    },
    {
      name: "a field an outcome does not have",
      body: { unit: "u", metric: "response_tokens", value: 1, vlaue: 2 },
      says: ['unknown field "vlaue"'],
    },
    {
      name: "no unit in the body or the headers, naming where it may come from",
      body: { metric: "resolution_rate", value: 1 },
      says: ['put "unit" in the body', "header x-llm-ab-unit", "header x-llm-ab-conversation"],
    },
    {
      name: "an empty unit",
      body: { unit: "  ", metric: "resolution_rate", value: 1 },
      says: ["unit: must not be empty"],
    },
  ];

  it.each(cases)("$name is a 400", async ({ body, headers, says }) => {
    const { sink, outcome } = await setup();
    const answer = await outcome(body, headers);
    expect(answer.status).toBe(400);
    const { error } = json(answer) as { error: { message: string } };
    for (const fragment of says) expect(error.message).toContain(fragment);
    expect(sink.records).toHaveLength(0);
  });
});
