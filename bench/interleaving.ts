/**
 * bench/interleaving: queries needed to detect a better ranker, team-draft interleaving against an
 * A/B test on click-through, side by side in one seeded run.
 *
 * The world: each query has 20 candidate documents of relevance r = u⁴ (u uniform: mostly weak, a
 * few strong). A ranker scores r + noise·N(0, 1) and shows its top 10; B is better by having less
 * noise. The user reads top down (cascade): clicks a result with probability r, stops after a click
 * with probability 0.5, otherwise reads on with probability 0.8.
 *
 * For each margin the bench first measures, on a large seeded sample, the click-through rate (share
 * of queries with a click) of each ranker shown alone, and the share of interleaved queries that are
 * decided and won by B. From those it sizes both designs for the same alpha and power: the A/B test
 * with stats/sizing.ts (two-proportion test), interleaving as the fewest decided queries at which the
 * exact sign test has that power, divided by the share of decided queries. It then checks both sizes by simulation: A/B
 * experiments drawn as binomial counts (exact for independent queries) through the z test,
 * interleaving experiments query by query through analyzeInterleaving's sign test. The simulated
 * queries are capped, so the run is bounded (under a minute with the defaults).
 *
 *   node bin/run-ts.mjs bench/interleaving.ts [--reps 300] [--seed 20080601] [--alpha 0.05] [--power 0.8]
 */
import { parseArgs } from "node:util";
import binomial from "@stdlib/random-base-binomial";
import normal from "@stdlib/random-base-normal";
import uniform from "@stdlib/random-base-uniform";
import { betaCdf, normQuantile } from "../stats/distributions.ts";
import { analyzeInterleaving, type QueryCredit, queryCredit, teamDraft } from "../stats/interleaving.ts";
import { twoProportionZTest } from "../stats/proportions.ts";
import { sampleSizeBinary } from "../stats/sizing.ts";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "300" },
    seed: { type: "string", default: "20080601" },
    alpha: { type: "string", default: "0.05" },
    power: { type: "string", default: "0.8" },
  },
});
const reps = Number(values.reps);
const seed = Number(values.seed);
const alpha = Number(values.alpha);
const power = Number(values.power);
if (!(Number.isInteger(reps) && reps >= 10))
  throw new Error(`--reps must be an integer ≥ 10, got ${values.reps}`);
if (!(Number.isInteger(seed) && seed >= 1 && seed < 2 ** 31))
  throw new Error(`--seed must be an integer in [1, 2^31), got ${values.seed}`);
if (!(alpha > 0 && alpha < 0.5)) throw new Error(`--alpha must be in (0, 0.5), got ${values.alpha}`);
if (!(power >= 0.5 && power < 1)) throw new Error(`--power must be in [0.5, 1), got ${values.power}`);

/** Ranker noise: A is fixed, B is better by a margin that shrinks down the table. */
const NOISE_A = 0.3;
const NOISE_B = [0.1, 0.2, 0.25];
/** Queries per ranker (and interleaved) used to measure the true rates each design is sized from. */
const CALIBRATION_QUERIES = 200_000;
/** Most queries simulated one by one per interleaving power check: this bounds the run's time. */
const QUERY_BUDGET = 1_000_000;
const DOCS = 20;
const SHOWN = 10;

const zAlpha = normQuantile(1 - alpha / 2);
const zBeta = normQuantile(power);
const u = uniform.factory(0, 1, { seed });
const z = normal.factory(0, 1, { seed: seed + 1 });
const draw = binomial.factory({ seed: seed + 2 });
const relevance = new Float64Array(DOCS);

function newQuery(): void {
  for (let d = 0; d < DOCS; d++) relevance[d] = u() ** 4;
}

/** A ranker's top results (document indices) for the current query. */
function rank(noise: number): number[] {
  const scores = Array.from(relevance, (r) => r + noise * z());
  return Array.from(scores.keys())
    .sort((i, j) => (scores[j] ?? 0) - (scores[i] ?? 0))
    .slice(0, SHOWN);
}

/** Positions the cascade user clicks in a list of document indices. */
function clicks(list: readonly number[]): number[] {
  const clicked: number[] = [];
  for (let p = 0; p < list.length; p++) {
    if (u() < (relevance[list[p] ?? 0] ?? 0)) {
      clicked.push(p);
      if (u() < 0.5) break;
    } else if (u() >= 0.8) break;
  }
  return clicked;
}

function interleavedQuery(noiseB: number): QueryCredit {
  newQuery();
  const list = teamDraft(rank(NOISE_A), rank(noiseB), u);
  return queryCredit(list, clicks(list.map((e) => e.item)));
}

/**
 * Share of queries with at least one click when each ranker's list is shown alone. Both rankers
 * answer the same queries, so the difference, which sizes the A/B test, is measured more tightly.
 */
function clickThrough(noiseB: number): { ctrA: number; ctrB: number } {
  let hitsA = 0;
  let hitsB = 0;
  for (let q = 0; q < CALIBRATION_QUERIES; q++) {
    newQuery();
    if (clicks(rank(NOISE_A)).length > 0) hitsA++;
    if (clicks(rank(noiseB)).length > 0) hitsB++;
  }
  return { ctrA: hitsA / CALIBRATION_QUERIES, ctrB: hitsB / CALIBRATION_QUERIES };
}

/**
 * Power of the two-sided exact sign test (as `signTest` computes it) with n decided queries when B
 * wins each with probability q: it rejects when the smaller tally k has 2·P(X ≤ k | ½) < alpha, and
 * B is detected when A's tally is that small.
 */
function signTestPower(n: number, q: number): number {
  let c = -1;
  while (c + 1 < n / 2 && 2 * betaCdf(0.5, n - (c + 1), c + 2) < alpha) c++;
  if (c < 0) return 0;
  // Detection means B wins: P(Y ≥ n − c) for Y ~ Binomial(n, q) = I_q(n − c, c + 1).
  return betaCdf(q, n - c, c + 1);
}

/**
 * Fewest decided queries at which the exact sign test reaches the power, starting from the normal
 * approximation (which is optimistic for an exact, discrete test).
 */
function decidedNeeded(q: number): number {
  let n = Math.max(1, Math.floor(((zAlpha * 0.5 + zBeta * Math.sqrt(q * (1 - q))) / (q - 0.5)) ** 2));
  while (signTestPower(n, q) < power) n++;
  return n;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const rows: string[][] = [];
const started = performance.now();

for (const noiseB of NOISE_B) {
  const { ctrA, ctrB } = clickThrough(noiseB);
  const calibration = analyzeInterleaving(
    Array.from({ length: CALIBRATION_QUERIES }, () => interleavedQuery(noiseB)),
    alpha,
  );
  const decidedShare = (calibration.winsA + calibration.winsB) / calibration.queries;
  const q = calibration.preferenceB;

  // A/B: both arms together, each query seeing one ranker.
  const abQueries = sampleSizeBinary(ctrA, ctrB, { alpha, power }).total;
  // Interleaving: decided queries for the exact sign test at p = q, then all queries.
  const ilQueries = Math.ceil(decidedNeeded(q) / decidedShare);

  const perArm = Math.ceil(abQueries / 2);
  let abDetected = 0;
  for (let e = 0; e < reps; e++) {
    const r = twoProportionZTest(
      { n: perArm, successes: draw(perArm, ctrA) },
      { n: perArm, successes: draw(perArm, ctrB) },
      { alpha },
    );
    if (r.pValue < alpha && r.effect > 0) abDetected++;
  }
  const ilReps = Math.max(10, Math.min(reps, Math.floor(QUERY_BUDGET / ilQueries)));
  let ilDetected = 0;
  for (let e = 0; e < ilReps; e++) {
    const r = analyzeInterleaving(
      Array.from({ length: ilQueries }, () => interleavedQuery(noiseB)),
      alpha,
    );
    if (r.signTestP < alpha && r.preferenceB > 0.5) ilDetected++;
  }

  rows.push([
    `${NOISE_A} vs ${noiseB}`,
    `${pct(ctrA)} → ${pct(ctrB)}`,
    `${pct(q)} (${pct(decidedShare)} decided)`,
    abQueries.toLocaleString("en-US"),
    ilQueries.toLocaleString("en-US"),
    `${(abQueries / ilQueries).toFixed(0)}×`,
    `${pct(abDetected / reps)} / ${pct(ilDetected / ilReps)} (${reps} / ${ilReps} runs)`,
  ]);
}

const header = [
  "noise A vs B",
  "CTR A → B",
  "B wins (decided)",
  "A/B queries",
  "interleaving queries",
  "ratio",
  "simulated power A/B / interleaving",
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ");
console.log(
  `Queries to detect the better ranker at alpha ${alpha}, power ${pct(power)} (seed ${seed}; CTR = share of queries with a click)`,
);
console.log(line(header));
for (const r of rows) console.log(line(r));
console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`);
