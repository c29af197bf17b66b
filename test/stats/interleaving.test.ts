import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  analyzeInterleaving,
  type InterleavedItem,
  type QueryCredit,
  queryCredit,
  seededRandom,
  type Team,
  teamDraft,
} from "../../stats/interleaving.ts";
import { expectClose, loadFixture } from "../helpers/reference.ts";

interface TeamDraftCase {
  name: string;
  a: string[];
  b: string[];
  seed: number;
  length: number | null;
  expected: { item: string; team: Team }[];
}

interface AnalyzeCase {
  name: string;
  winsA: number;
  winsB: number;
  ties: number;
  noClick: number;
  alpha: number;
  ci: [number, number];
  signTestP: number;
}

const reference = loadFixture<{
  seededRandom: { seed: number; draws: number[] }[];
  teamDraft: TeamDraftCase[];
  analyzeInterleaving: AnalyzeCase[];
}>("interleaving-reference.json");

const ARTICLE_A = ["sony", "sennheiser", "audio-technica", "jbl", "anker"];
const ARTICLE_B = ["bose", "sony", "apple", "anker", "jabra"];

/** The structural invariants of a team-draft list, checked on any output. */
function expectTeamDraftInvariants<T>(
  out: readonly InterleavedItem<T>[],
  a: readonly T[],
  b: readonly T[],
  length: number,
): void {
  const union = new Set([...a, ...b]);
  expect(out.length).toBeLessThanOrEqual(Math.min(length, union.size));
  expect(new Set(out.map((e) => e.item)).size, "no item twice").toBe(out.length);
  let countA = 0;
  let countB = 0;
  const lastRank: Record<Team, number> = { A: -1, B: -1 };
  for (const e of out) {
    if (e.team === "A") countA++;
    else countB++;
    expect(Math.abs(countA - countB), "teams stay level within one pick").toBeLessThanOrEqual(1);
    expect(union.has(e.item), "every item comes from A or B").toBe(true);
    expect(e.rankA).toBe(a.includes(e.item) ? a.indexOf(e.item) : undefined);
    expect(e.rankB).toBe(b.includes(e.item) ? b.indexOf(e.item) : undefined);
    // A team picks from its own ranking, top first.
    const rank = e.team === "A" ? e.rankA : e.rankB;
    expect(rank, `${String(e.item)} is in team ${e.team}'s ranking`).toBeDefined();
    expect(rank ?? -1).toBeGreaterThan(lastRank[e.team]);
    lastRank[e.team] = rank ?? -1;
  }
  // A team only ever passes over items already taken: its picks are its top untaken items.
  for (const team of ["A", "B"] as const) {
    const ranking = team === "A" ? a : b;
    const picks = out.filter((e) => e.team === team).map((e) => e.item);
    const last = picks.at(-1);
    const skipped = last === undefined ? [] : ranking.slice(0, ranking.indexOf(last) + 1);
    for (const item of skipped) expect(out.some((e) => e.item === item)).toBe(true);
  }
}

describe("seededRandom", () => {
  it.each(reference.seededRandom)(
    "replays numpy's RandomState($seed).random_sample() stream",
    ({ seed, draws }) => {
      const random = seededRandom(seed);
      for (const d of draws) expect(random()).toBe(d);
    },
  );

  it.each([0, -1, 1.5, 2 ** 32, Number.NaN])("rejects the seed %s, which mt19937 cannot take", (seed) => {
    expect(() => seededRandom(seed)).toThrow(/seed must be an integer in \[1, 4294967295\]/);
  });
});

describe("teamDraft", () => {
  it("interleaves the article's headphone rankings for the recorded seed 7 exactly", () => {
    // Coins 0.076, 0.780, 0.438, 0.723: A first, B first, A first, B first. B then has nothing
    // left, so interleaving stops before A's jbl (7 of the 8 distinct items).
    expect(teamDraft(ARTICLE_A, ARTICLE_B, seededRandom(7))).toEqual([
      { item: "sony", team: "A", rankA: 0, rankB: 1 },
      { item: "bose", team: "B", rankB: 0 },
      { item: "apple", team: "B", rankB: 2 },
      { item: "sennheiser", team: "A", rankA: 1 },
      { item: "audio-technica", team: "A", rankA: 2 },
      { item: "anker", team: "B", rankA: 4, rankB: 3 },
      { item: "jabra", team: "B", rankB: 4 },
    ]);
  });

  it.each(reference.teamDraft)("matches an independent Python transcription on $name", (c) => {
    const out = teamDraft(c.a, c.b, seededRandom(c.seed), c.length === null ? {} : { length: c.length });
    expect(out.map(({ item, team }) => ({ item, team }))).toEqual(c.expected);
    expectTeamDraftInvariants(out, c.a, c.b, c.length ?? Number.POSITIVE_INFINITY);
  });

  it("reproduces the article's printed list when B wins every coin", () => {
    const out = teamDraft(ARTICLE_A, ARTICLE_B, () => 0.9, { length: 5 });
    expect(out.map((e) => [e.item, e.team])).toEqual([
      ["bose", "B"],
      ["sony", "A"],
      ["apple", "B"],
      ["sennheiser", "A"],
      ["anker", "B"],
    ]);
  });

  it("draws one coin per round, only while the teams are level", () => {
    let draws = 0;
    const out = teamDraft(ARTICLE_A, ARTICLE_B, () => {
      draws++;
      return 0.25;
    });
    // A first every round: sony, bose, sennheiser, apple, audio-technica, anker, jbl; then B's turn
    // with jabra left but A has nothing left, so the paper's loop ends.
    expect(out.map((e) => e.item)).toEqual([
      "sony",
      "bose",
      "sennheiser",
      "apple",
      "audio-technica",
      "anker",
      "jbl",
    ]);
    expect(draws).toBe(4);
  });

  it("stops as soon as either ranking has nothing left, as the paper's loop does", () => {
    // A picks x, then A has nothing left: B gets no turn, so no team ever leads by more than one.
    expect(teamDraft(["x"], ["y", "z", "w"], () => 0).map((e) => e.item)).toEqual(["x"]);
    expect(teamDraft(["x"], ["y", "z", "w"], () => 0.9).map((e) => e.item)).toEqual(["y", "x"]);
  });

  it("returns nothing when either ranking is empty or the length is 0", () => {
    expect(teamDraft([], ["y"], () => 0)).toEqual([]);
    expect(teamDraft(["x"], [], () => 0)).toEqual([]);
    expect(teamDraft(["x"], ["y"], () => 0, { length: 0 })).toEqual([]);
  });

  it("compares objects by key, so the same document from both rankers is shown once", () => {
    const a = [
      { id: "d1", score: 0.9 },
      { id: "d2", score: 0.5 },
      { id: "d4", score: 0.4 },
    ];
    const b = [
      { id: "d1", score: 0.7 },
      { id: "d3", score: 0.6 },
      { id: "d5", score: 0.3 },
    ];
    const out = teamDraft(a, b, () => 0.9, { key: (d) => d.id });
    expect(out.map((e) => [e.item.id, e.team, e.rankA, e.rankB])).toEqual([
      ["d1", "B", 0, 0],
      ["d2", "A", 1, undefined],
      ["d3", "B", undefined, 1],
      ["d4", "A", 2, undefined],
    ]);
    // A has nothing left after d4, so B's d5 is not shown. Without a key, objects are distinct by
    // reference: both d1s appear, and B runs out first.
    expect(teamDraft(a, b, () => 0.9).map((e) => [e.item.id, e.team])).toEqual([
      ["d1", "B"],
      ["d1", "A"],
      ["d3", "B"],
      ["d2", "A"],
      ["d5", "B"],
    ]);
  });

  it("ranks an item a ranking repeats at its first position and shows it once", () => {
    const out = teamDraft(["x", "x", "y"], ["z"], () => 0, { length: 4 });
    expect(out.map((e) => [e.item, e.rankA])).toEqual([
      ["x", 0],
      ["z", undefined],
    ]);
  });

  it.each([-1, 1.5, Number.NaN])("rejects the length %s", (length) => {
    expect(() => teamDraft(["x"], ["y"], () => 0, { length })).toThrow(
      /options.length must be a non-negative integer/,
    );
  });

  it.each([1, -0.1, Number.NaN])("rejects a random source that returns %s", (u) => {
    expect(() => teamDraft(["x"], ["y"], () => u)).toThrow(/random\(\) must return a number in \[0, 1\)/);
  });

  it("keeps every structural invariant on random rankings, lengths and seeds", () => {
    // Items from a small alphabet so the rankings overlap often.
    const ranking = fc.uniqueArray(fc.integer({ min: 0, max: 14 }), { maxLength: 12 });
    fc.assert(
      fc.property(
        ranking,
        ranking,
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
        (a, b, seed, length) => {
          const out = teamDraft(a, b, seededRandom(seed), length === undefined ? {} : { length });
          expectTeamDraftInvariants(out, a, b, length ?? Number.POSITIVE_INFINITY);
          // Stopping is only ever for the length or an exhausted ranking.
          const taken = new Set(out.map((e) => e.item));
          const aLeft = a.some((x) => !taken.has(x));
          const bLeft = b.some((x) => !taken.has(x));
          if (out.length < (length ?? Number.POSITIVE_INFINITY)) expect(aLeft && bLeft).toBe(false);
        },
      ),
    );
  });

  it("replays the same list from the same seed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0xffffffff }), (seed) => {
        expect(teamDraft(ARTICLE_A, ARTICLE_B, seededRandom(seed))).toEqual(
          teamDraft(ARTICLE_A, ARTICLE_B, seededRandom(seed)),
        );
      }),
    );
  });
});

describe("queryCredit", () => {
  // The article's list: A wins every coin, five results.
  const article = teamDraft(ARTICLE_A, ARTICLE_B, () => 0, { length: 5 });

  it("gives the article's query to A, 2 clicks to 1", () => {
    expect(article.map((e) => e.item)).toEqual(["sony", "bose", "sennheiser", "apple", "audio-technica"]);
    expect(queryCredit(article, [0, 3, 4])).toEqual({ a: 2, b: 1, preference: 1 });
  });

  it.each([
    { name: "no click is no preference", clicks: [], credit: { a: 0, b: 0, preference: 0 } },
    { name: "one click on each team is a tie", clicks: [1, 2], credit: { a: 1, b: 1, preference: 0 } },
    {
      name: "more clicks on B's results prefer B",
      clicks: [1, 3, 4],
      credit: { a: 1, b: 2, preference: -1 },
    },
    {
      name: "clicking a result twice counts it once",
      clicks: [1, 1, 0],
      credit: { a: 1, b: 1, preference: 0 },
    },
  ])("credits clicks by team: $name", ({ clicks, credit }) => {
    expect(queryCredit(article, clicks)).toEqual(credit);
  });

  it.each([5, -1, 0.5])("rejects the clicked position %s", (p) => {
    expect(() => queryCredit(article, [p])).toThrow(/not a 0-based position in a list of 5 results/);
  });
});

/** Credits with the given counts: each win by one click, each tie one click each. */
function credits(winsA: number, winsB: number, ties: number, noClick: number): QueryCredit[] {
  return [
    ...Array.from({ length: winsA }, (): QueryCredit => ({ a: 1, b: 0, preference: 1 })),
    ...Array.from({ length: winsB }, (): QueryCredit => ({ a: 0, b: 2, preference: -1 })),
    ...Array.from({ length: ties }, (): QueryCredit => ({ a: 1, b: 1, preference: 0 })),
    ...Array.from({ length: noClick }, (): QueryCredit => ({ a: 0, b: 0, preference: 0 })),
  ];
}

describe("analyzeInterleaving", () => {
  it.each(reference.analyzeInterleaving)(
    "matches statsmodels' Wilson interval and scipy's binomtest on $name",
    (c) => {
      const r = analyzeInterleaving(credits(c.winsA, c.winsB, c.ties, c.noClick), c.alpha);
      const decided = c.winsA + c.winsB;
      const withClicks = decided + c.ties;
      expect(r).toMatchObject({
        queries: withClicks + c.noClick,
        withClicks,
        winsA: c.winsA,
        winsB: c.winsB,
        ties: c.ties,
      });
      expect(r.preferenceB).toBe(c.winsB / decided);
      expect(r.preferenceBWithTies).toBe((c.winsB + c.ties / 2) / withClicks);
      // Ends at 0 or 1 (a one-sided tally; statsmodels leaves rounding dust there) are compared absolutely.
      for (const i of [0, 1] as const) {
        const expected = c.ci[i];
        if (expected < 1e-12 || expected > 1 - 1e-12)
          expect(Math.abs(r.ci[i] - expected)).toBeLessThan(1e-12);
        else expectClose(r.ci[i], expected);
      }
      expectClose(r.signTestP, c.signTestP);
    },
  );

  it("reports no preference and the whole interval when no query was decided", () => {
    const r = analyzeInterleaving(credits(0, 0, 3, 4), 0.05);
    expect(r).toMatchObject({
      queries: 7,
      withClicks: 3,
      ties: 3,
      ci: [0, 1],
      signTestP: 1,
      preferenceBWithTies: 0.5,
    });
    expect(r.preferenceB).toBeNaN();
    const empty = analyzeInterleaving([], 0.05);
    expect(empty.preferenceB).toBeNaN();
    expect(empty.preferenceBWithTies).toBeNaN();
  });

  it.each([0, 1, Number.NaN])("rejects alpha %s", (alpha) => {
    expect(() => analyzeInterleaving([], alpha)).toThrow(/alpha must be in \(0, 1\)/);
  });

  it("rejects a credit whose preference disagrees with its clicks", () => {
    expect(() => analyzeInterleaving([{ a: 2, b: 1, preference: -1 }], 0.05)).toThrow(
      /credit 0 has preference -1 but clicks a=2, b=1 give 1/,
    );
    expect(() => analyzeInterleaving([{ a: -1, b: 0, preference: -1 }], 0.05)).toThrow(
      /non-negative integer clicks/,
    );
  });
});
