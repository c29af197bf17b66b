/** Interleaving analysis of a router event log: the join, the simulated verdicts, and bad lines named. */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import normal from "@stdlib/random-base-normal";
import uniform from "@stdlib/random-base-uniform";
import { afterAll, describe, expect, it } from "vitest";
import { analyzeInterleavingLog } from "../../analysis/interleaving-log.ts";
import { DataError } from "../../analysis/locate-errors.ts";
import type { InterleavingFeedbackRecord, InterleavingRecord, RouterRecord } from "../../router/records.ts";
import { analyzeInterleaving, queryCredit, seededRandom, teamDraft } from "../../stats/interleaving.ts";
import { tempDir, writeJsonl } from "../helpers/unit-data.ts";

const dir = tempDir("llm-ab-interleaving-log-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T = "2026-11-27T12:00:00.000Z";
const EXPERIMENT = "search-ranker";

/** Every list its own seed, as the router draws them (shared seeds void the analysis). */
let nextSeed = 1;

function list(queryId: string, items: [id: string, team: string][], extra: object = {}): InterleavingRecord {
  return {
    type: "interleaving",
    t: T,
    experiment: EXPERIMENT,
    queryId,
    seed: nextSeed++,
    control: "control",
    treatment: "treatment",
    items: items.map(([id, team]) => ({ id, team })),
    ...extra,
  };
}

function feedback(queryId: string, items: string[]): InterleavingFeedbackRecord {
  return { type: "interleaving_feedback", t: T, experiment: EXPERIMENT, queryId, items };
}

const exposure = {
  type: "exposure",
  t: T,
  experiment: EXPERIMENT,
  unit: "u-1",
  assigned: "control",
  variant: "control",
} as const;

/** World of the simulation: 20 candidate documents per query, 10 shown by each ranker. */
const DOCS = 20;
const SHOWN = 10;

interface World {
  /** Noise of each ranker's relevance estimate: less noise ranks better. */
  noiseA: number;
  noiseB: number;
  /** Both rankers see the same noisy scores: identical lists. */
  identical?: boolean;
}

/**
 * Seeded queries through team draft and a cascade click model (bench/interleaving.ts): relevance
 * r = u⁴; each ranker shows its top 10 by r + noise·N(0, 1); the user reads top down, clicks a
 * result with probability r, stops after a click with probability 0.5, else reads on with
 * probability 0.8. Yields each query's list and clicked positions. `replayable` draws each query's
 * coins from seededRandom(query number + 1), recorded as its seed.
 */
function* simulate(world: World, queries: number, seed: number, replayable = true) {
  const u = uniform.factory(0, 1, { seed });
  const z = normal.factory(0, 1, { seed: seed + 1 });
  const ranking = (relevance: number[], noise: number, draws: number[]) =>
    relevance
      .map((r, i) => ({ id: `d${i}`, score: r + noise * (draws[i] as number) }))
      .sort((x, y) => y.score - x.score)
      .slice(0, SHOWN)
      .map((d) => d.id);
  for (let q = 0; q < queries; q++) {
    const relevance = Array.from({ length: DOCS }, () => u() ** 4);
    const drawsA = Array.from({ length: DOCS }, () => z());
    const drawsB = world.identical ? drawsA : Array.from({ length: DOCS }, () => z());
    const a = ranking(relevance, world.noiseA, drawsA);
    const b = ranking(relevance, world.identical ? world.noiseA : world.noiseB, drawsB);
    // Logged queries draw their coins from their own seed, as the router does; the truth needs none.
    const shown = teamDraft(a, b, replayable ? seededRandom(q + 1) : u, { length: SHOWN });
    const clicked: number[] = [];
    for (const [position, entry] of shown.entries()) {
      if (u() < (relevance[Number(entry.item.slice(1))] as number)) {
        clicked.push(position);
        if (u() < 0.5) break;
      } else if (u() >= 0.8) {
        break;
      }
    }
    yield { queryId: `q-${q}`, seed: q + 1, shown, clicked };
  }
}

/** The event log a router would write for the simulated queries, with unrelated records between. */
function simulatedLog(world: World, queries: number, seed: number): RouterRecord[] {
  const records: RouterRecord[] = [];
  for (const { queryId, seed: draftSeed, shown, clicked } of simulate(world, queries, seed)) {
    records.push(
      list(
        queryId,
        shown.map(({ item, team }) => [item, team === "A" ? "control" : "treatment"]),
        { seed: draftSeed },
      ),
    );
    // Half the applications post one feedback per query, the others one per click.
    if (clicked.length > 0 && seed % 2 === 0) {
      records.push(
        feedback(
          queryId,
          clicked.map((p) => shown[p]?.item as string),
        ),
      );
    } else {
      for (const p of clicked) records.push(feedback(queryId, [shown[p]?.item as string]));
    }
    if (records.length % 50 === 0)
      records.push({ ...exposure, requestId: queryId } as unknown as RouterRecord);
  }
  return records;
}

/** B's true share of decided queries in a world, from 20,000 queries analysed in memory. */
function trueShareB(world: World): { share: number; decided: number } {
  const credits = [...simulate(world, 20_000, 99, false)].map(({ shown, clicked }) =>
    queryCredit(shown, clicked),
  );
  const { preferenceB, winsA, winsB } = analyzeInterleaving(credits, 0.05);
  return { share: preferenceB, decided: winsA + winsB };
}

describe("the join of lists and feedback", () => {
  it("credits each query from its pooled feedback; lists without feedback are queries without clicks", async () => {
    const file = writeJsonl(dir, "join.jsonl", [
      exposure,
      list("q-a", [
        ["x", "control"],
        ["y", "treatment"],
      ]),
      feedback("q-a", ["x"]),
      list("q-b", [
        ["y", "treatment"],
        ["x", "control"],
      ]),
      feedback("q-b", ["y"]),
      feedback("q-b", ["y"]),
      // One feedback post per click: a click on each team is a tie.
      feedback("q-c", ["x"]),
      list("q-c", [
        ["x", "control"],
        ["y", "treatment"],
      ]),
      feedback("q-c", ["y"]),
      list("q-d", [["x", "control"]]),
      list("q-e", [["y", "treatment"]]),
      feedback("q-e", []),
      feedback("q-gone", ["x"]),
      feedback("q-gone", ["y"]),
    ]);
    const report = await analyzeInterleavingLog(file);
    expect(report).toMatchObject({
      file,
      experiment: EXPERIMENT,
      control: "control",
      treatment: "treatment",
      alpha: 0.05,
      lists: 5,
      withFeedback: 4,
      orphanFeedback: 2,
      orphanQueries: 1,
      orphanExamples: ["q-gone"],
    });
    expect(report.result).toMatchObject({ queries: 5, withClicks: 3, winsA: 1, winsB: 1, ties: 1 });
  });

  it("leaves out a queryId that names several lists (a retry), with its feedback, and counts it", async () => {
    const pair: [string, string][] = [
      ["x", "control"],
      ["y", "treatment"],
    ];
    const file = writeJsonl(dir, "retry.jsonl", [
      list("q-1", pair),
      feedback("q-1", ["x"]),
      list("q-1", pair),
      list("q-2", pair),
      feedback("q-2", ["y"]),
    ]);
    const report = await analyzeInterleavingLog(file);
    expect(report).toMatchObject({ lists: 1, ambiguousQueries: 1, ambiguousLists: 2, orphanFeedback: 0 });
    expect(report.result).toMatchObject({ winsB: 1, winsA: 0 });
  });

  it("counts lists that share a seed (queries not randomized independently)", async () => {
    const pair: [string, string][] = [
      ["x", "control"],
      ["y", "treatment"],
    ];
    const file = writeJsonl(dir, "fixed-seed.jsonl", [
      list("q-1", pair, { seed: 7 }),
      list("q-2", pair, { seed: 7 }),
      list("q-3", pair),
    ]);
    expect((await analyzeInterleavingLog(file)).repeatedSeeds).toBe(2);
  });

  it("analyses the lists of the treatment it is asked for when the log compares several", async () => {
    const file = writeJsonl(dir, "two-treatments.jsonl", [
      list("q-1", [["x", "treatment"]]),
      list("q-2", [["x", "concise"]], { treatment: "concise" }),
      feedback("q-1", ["x"]),
      feedback("q-2", ["x"]),
    ]);
    const report = await analyzeInterleavingLog(file, { treatment: "concise" });
    expect(report).toMatchObject({ treatment: "concise", lists: 1, orphanFeedback: 0 });
    expect(report.result).toMatchObject({ winsB: 1, winsA: 0 });
    await expect(analyzeInterleavingLog(file)).rejects.toThrow(
      /several pairs of rankers: treatment vs control \(first on line 1\), concise vs control \(first on line 2\)/,
    );
  });
});

describe("simulated experiments", () => {
  it.each([
    {
      name: "identical rankers (the same list on both sides)",
      world: { noiseA: 0.3, noiseB: 0.3, identical: true },
    },
    { name: "equally good rankers with their own noise", world: { noiseA: 0.3, noiseB: 0.3 } },
  ])("$name give a preference whose interval covers 50 %", async ({ world }) => {
    const file = writeJsonl(dir, "null.jsonl", simulatedLog(world, 3000, 11));
    const { result, lists } = await analyzeInterleavingLog(file);
    expect(lists).toBe(3000);
    expect(result.withClicks).toBeGreaterThan(1000);
    expect(result.ci[0]).toBeLessThan(0.5);
    expect(result.ci[1]).toBeGreaterThan(0.5);
    expect(result.signTestP).toBeGreaterThan(0.05);
  });

  it("detects a ranker better by a known margin, and estimates its true preference", async () => {
    const world = { noiseA: 0.3, noiseB: 0.2 };
    const truth = trueShareB(world);
    expect(truth.share).toBeGreaterThan(0.55);
    const file = writeJsonl(dir, "better.jsonl", simulatedLog(world, 3000, 12));
    const { result } = await analyzeInterleavingLog(file);
    expect(result.winsB).toBeGreaterThan(result.winsA);
    expect(result.ci[0]).toBeGreaterThan(0.5);
    expect(result.signTestP).toBeLessThan(0.001);
    // The estimate agrees with the truth within three standard errors of their difference (the
    // truth is itself estimated, from many more queries).
    const variance = truth.share * (1 - truth.share);
    const se = Math.sqrt(variance / (result.winsA + result.winsB) + variance / truth.decided);
    expect(Math.abs(result.preferenceB - truth.share)).toBeLessThan(3 * se);
  });
});

describe("bad logs", () => {
  const good = list("q-1", [
    ["x", "control"],
    ["y", "treatment"],
  ]);
  const cases: { name: string; lines: unknown[]; says: string[] }[] = [
    { name: "a line that is not JSON", lines: [good, "{oops"], says: [":2: not valid JSON"] },
    { name: "a line that is not an object", lines: [good, [1, 2]], says: [":2: expected a JSON object"] },
    { name: "a record without a type", lines: [{ t: T }], says: [":1: type: expected the record type"] },
    {
      name: "a list item on an unknown team",
      lines: [
        list("q-1", [
          ["x", "control"],
          ["y", "blue"],
        ]),
      ],
      says: [':1: items[1].team: expected "control" or "treatment" (got "blue")'],
    },
    {
      name: "a list showing an item twice",
      lines: [
        list("q-1", [
          ["x", "control"],
          ["x", "treatment"],
        ]),
      ],
      says: [':1: items[1].id: "x" is in the list twice'],
    },
    { name: "a list without its seed", lines: [list("q-1", [], { seed: "7" })], says: [":1: seed:"] },
    { name: "a list without a queryId", lines: [list("", [])], says: [":1: queryId:"] },
    {
      name: "feedback naming an item its list did not show",
      lines: [good, feedback("q-1", ["x", "zzz"])],
      says: [':2: items[1]: "zzz" is not in the list of query "q-1" (line 1)'],
    },
    {
      name: "feedback without items",
      lines: [good, { ...feedback("q-1", []), items: "x" }],
      says: [":2: items:"],
    },
    {
      name: "records of two experiments",
      lines: [good, { ...feedback("q-1", []), experiment: "other" }],
      says: [':2: experiment: "other" here but "search-ranker" on line 1'],
    },
    { name: "a log with no interleaving records", lines: [exposure], says: [":0: no interleaving lists"] },
  ];

  it.each(cases)("stop the analysis naming file, line and field: $name", async ({ lines, says }) => {
    const file = join(dir, "bad.jsonl");
    writeFileSync(file, `${lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n")}\n`);
    const error = await analyzeInterleavingLog(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    for (const fragment of says) expect((error as Error).message).toContain(`${file}${fragment}`);
  });

  it("refuses an alpha outside (0, 1)", async () => {
    const file = writeJsonl(dir, "alpha.jsonl", [good]);
    await expect(analyzeInterleavingLog(file, { alpha: 1.5 })).rejects.toThrow(RangeError);
  });
});
