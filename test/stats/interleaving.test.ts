/**
 * Team-draft interleaving: the article's example pinned for a recorded seed, agreement with an
 * independent Python transcription and with statsmodels / scipy (test/fixtures/), the structural
 * invariants as properties, and seeded simulations of a click model for A/A coverage and power.
 */
import normal from "@stdlib/random-base-normal";
import uniform from "@stdlib/random-base-uniform";
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

/**
 * A seeded world (the one bench/interleaving.ts sizes designs in): each query has 20 candidate
 * documents with relevance r = u⁴ (most are weak, a few strong). A ranker scores r + noise·N(0, 1)
 * and shows its top 10, so less noise is a better ranker. The user reads top down (cascade): clicks
 * a result with probability r, stops after a click with probability 0.5, and otherwise reads on
 * with probability 0.8.
 */
function world(seed: number) {
  const u = uniform.factory(0, 1, { seed });
  const z = normal.factory(0, 1, { seed: seed + 1 });
  const docs = 20;
  const shown = 10;
  const relevance = new Float64Array(docs);
  const rank = (noise: number): number[] => {
    const scores = Array.from(relevance, (r) => r + noise * z());
    return Array.from(scores.keys())
      .sort((i, j) => (scores[j] ?? 0) - (scores[i] ?? 0))
      .slice(0, shown);
  };
  const clicks = (list: readonly number[]): number[] => {
    const clicked: number[] = [];
    for (let p = 0; p < list.length; p++) {
      if (u() < (relevance[list[p] ?? 0] ?? 0)) {
        clicked.push(p);
        if (u() < 0.5) break;
      } else if (u() >= 0.8) break;
    }
    return clicked;
  };
  /** One interleaved query between rankers with the given noise. */
  return (noiseA: number, noiseB: number): QueryCredit => {
    for (let d = 0; d < docs; d++) relevance[d] = u() ** 4;
    const list = teamDraft(rank(noiseA), rank(noiseB), u);
    return queryCredit(list, clicks(list.map((e) => e.item)));
  };
}

describe("interleaving simulation", () => {
  it("covers a preference of 50% in at least 930 of 1,000 A/A experiments of 100 queries", () => {
    // Identical rankers (same noise): the Wilson interval is nominally 95%, so about 950 cover; the
    // binomial SD of that count is 6.9, and 930 is three SDs below. The exact sign test must reject
    // at most 5% (it is conservative), with the same three-SD allowance: at most 70. This seed gives
    // 951 and 40.
    const query = world(20080601);
    let covered = 0;
    let rejected = 0;
    for (let e = 0; e < 1000; e++) {
      const cs = Array.from({ length: 100 }, () => query(0.3, 0.3));
      const r = analyzeInterleaving(cs, 0.05);
      if (r.ci[0] <= 0.5 && 0.5 <= r.ci[1]) covered++;
      if (r.signTestP < 0.05) rejected++;
    }
    expect(covered).toBeGreaterThanOrEqual(930);
    expect(rejected).toBeLessThanOrEqual(70);
  });

  it("detects a less noisy ranker in at least 45 of 50 experiments of 400 queries", () => {
    // B's noise 0.1 against A's 0.3. The bench measures B winning 62% of decided queries, 71% of
    // queries decided, and 80% power at about 190 queries; at 400 queries (about 282 decided) the
    // normal approximation gives power 0.99, so fewer than 45 detections of 50 has probability
    // below 1e-4.
    const query = world(20080602);
    let detected = 0;
    for (let e = 0; e < 50; e++) {
      const r = analyzeInterleaving(
        Array.from({ length: 400 }, () => query(0.3, 0.1)),
        0.05,
      );
      if (r.signTestP < 0.05 && r.preferenceB > 0.5) detected++;
    }
    expect(detected).toBeGreaterThanOrEqual(45);
  });
});
