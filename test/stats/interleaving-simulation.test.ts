/**
 * Team-draft interleaving in seeded simulations of a click model: A/A coverage of the preference
 * interval, and power against a ranker better by a known margin.
 */
import normal from "@stdlib/random-base-normal";
import uniform from "@stdlib/random-base-uniform";
import { describe, expect, it } from "vitest";
import { analyzeInterleaving, type QueryCredit, queryCredit, teamDraft } from "../../stats/interleaving.ts";

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
