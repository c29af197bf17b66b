/** Level 2: cosine of answer and reference embeddings, per case and arm. */
import { afterEach, describe, expect, it } from "vitest";
import { cosine, readEmbeddings, similarity } from "../../arena/similarity.ts";
import type { Arm, Generation, GoldenCase } from "../../arena/types.ts";
import { type ArenaServer, startArenaServer } from "../helpers/arena-server.ts";

let server: ArenaServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

function goldenCase(id: string, reference?: string): GoldenCase {
  return {
    id,
    messages: [{ role: "user", content: "q" }],
    ...(reference === undefined ? {} : { reference }),
    tags: [],
    checks: [],
  };
}

function generation(caseId: string, arm: Arm, text: string): Generation {
  return {
    caseId,
    variant: arm,
    arm,
    deployment: "d",
    endpoint: "http://x",
    model: "m",
    params: {},
    seed: 1,
    requestHash: "h",
    text,
    finishReason: "stop",
    latencyMs: 1,
    attempts: 1,
    at: "2026-01-01T00:00:00.000Z",
  };
}

describe("cosine", () => {
  it.each([
    { a: [1, 0], b: [0, 1], expected: 0 },
    { a: [1, 2, 3], b: [2, 4, 6], expected: 1 },
    { a: [1, 0], b: [-1, 0], expected: -1 },
    { a: [3, 4], b: [4, 3], expected: 24 / 25 },
    { a: [1, 1, 0, 0], b: [1, 0, 1, 0], expected: 0.5 },
  ])("of $a and $b is $expected", ({ a, b, expected }) => {
    expect(cosine(a, b)).toBeCloseTo(expected, 12);
  });

  it("refuses vectors of different lengths", () => {
    expect(() => cosine([1, 2], [1, 2, 3])).toThrow("vectors of different lengths (2 and 3)");
  });

  it("refuses a zero vector", () => {
    expect(() => cosine([0, 0], [1, 2])).toThrow("a zero vector has no direction");
  });
});

describe("readEmbeddings", () => {
  it("puts vectors in input order by their index", () => {
    const json = {
      data: [
        { index: 1, embedding: [2] },
        { index: 0, embedding: [1] },
      ],
    };
    expect(readEmbeddings(json, 2)).toEqual([[1], [2]]);
  });

  it.each([
    [{}, 1, "no data array"],
    [{ data: [{ embedding: [1] }] }, 2, "1 embeddings for 2 inputs"],
    [{ data: [{ embedding: ["x"] }] }, 1, "data[0].embedding is not a list of finite numbers"],
    [
      {
        data: [
          { index: 0, embedding: [1] },
          { index: 0, embedding: [1] },
        ],
      },
      2,
      "out of range or repeated",
    ],
  ])("refuses %j for %i inputs", (json, expected, problem) => {
    expect(() => readEmbeddings(json, expected)).toThrow(problem);
  });
});

describe("similarity", () => {
  const vectors: Record<string, number[]> = {
    "ref one": [1, 0, 0],
    "same as ref": [2, 0, 0],
    orthogonal: [0, 1, 0],
    "ref two": [3, 4, 0],
    "close to two": [4, 3, 0],
  };
  const embed = (text: string) => vectors[text] ?? [0, 0, 1];

  it("gives the cosine of each arm's answer with the reference, and lists cases without one", async () => {
    server = await startArenaServer({ embed });
    const run = await similarity({
      endpoint: server.url,
      model: "embedder",
      cases: [goldenCase("one", "ref one"), goldenCase("none"), goldenCase("two", "ref two")],
      generations: [
        generation("one", "treatment", "orthogonal"),
        generation("one", "control", "same as ref"),
        generation("none", "control", "anything"),
        generation("two", "control", "close to two"),
      ],
    });
    expect(run.skipped).toEqual(["none"]);
    expect(run.results).toEqual([
      { caseId: "one", arm: "control", cosine: 1, model: "embedder" },
      { caseId: "one", arm: "treatment", cosine: 0, model: "embedder" },
      { caseId: "two", arm: "control", cosine: expect.closeTo(24 / 25, 12), model: "embedder" },
    ]);
    expect(server.calls().map((call) => call.body)).toEqual([
      { model: "embedder", input: ["ref one", "same as ref", "orthogonal"] },
      { model: "embedder", input: ["ref two", "close to two"] },
    ]);
    expect(server.calls().every((call) => call.path === "/v1/embeddings")).toBe(true);
  });

  it("fails naming the case when the answer's vector and the reference's differ in length", async () => {
    server = await startArenaServer({ embed: (text) => (text === "ref one" ? [1, 0, 0] : [1, 0]) });
    await expect(
      similarity({
        endpoint: server.url,
        model: "embedder",
        cases: [goldenCase("one", "ref one")],
        generations: [generation("one", "control", "answer")],
      }),
    ).rejects.toThrow('embedding similarity of case "one": vectors of different lengths (2 and 3)');
  });
});
