/**
 * Team-draft interleaving: compare two rankers within each query instead of across traffic groups.
 *
 * Radlinski, Kurup & Joachims (2008), "How does clickthrough data reflect retrieval quality?"
 * (CIKM '08), team-draft method: like captains picking players, the two rankings take turns adding
 * their best remaining result to one list, a coin deciding who picks first in each round, and each
 * result remembers which team put it there. A click on a result is a vote for its team; the query
 * goes to the team with more clicks. Because both rankers answer the same query for the same user,
 * query and user variation cancel, which is why interleaving needs far fewer queries than an A/B test
 * on click-through (Chapelle, Joachims, Radlinski & Yue 2012, "Large-scale validation and analysis
 * of interleaved search evaluation", ACM TOIS).
 *
 * Under "no preference" the coin makes each team equally likely to hold any position, so a decided
 * query is a fair coin flip: the share won by B is tested with the exact sign test and given a
 * Wilson interval.
 */

import uniform from "@stdlib/random-base-uniform";
import type { Interval } from "./effect.ts";
import { wilsonInterval } from "./proportions.ts";
import { signTest } from "./win-rate.ts";

/** Which ranker placed a result in the interleaved list. */
export type Team = "A" | "B";

/** One result of an interleaved list. */
export interface InterleavedItem<T> {
  item: T;
  /** The team whose pick put the item here; clicks on it are credited to this team. */
  team: Team;
  /** 0-based position of the item in ranking A (0 = top); absent when A does not rank it. */
  rankA?: number;
  /** 0-based position of the item in ranking B (0 = top); absent when B does not rank it. */
  rankB?: number;
}

/** Length and identity of the interleaved list. */
export interface TeamDraftOptions<T> {
  /** Most results to return. Default: the number of distinct items in A and B together. */
  length?: number;
  /**
   * Identity of an item: two items with the same key are the same result. Default: the item itself
   * under SameValueZero (strings and numbers by value, objects by reference).
   */
  key?: (item: T) => string;
}

/**
 * Team-draft interleaving of rankings `a` and `b` (Radlinski, Kurup & Joachims 2008, algorithm
 * "Team-Draft Interleaving").
 *
 * Each round starts with the teams level: a fair coin from `random` (a () => number in [0, 1); a
 * draw below 0.5 means A picks first) decides which picks first, then the other picks. A team picks
 * its highest-ranked item not yet in the list, so an item both rankings hold is taken once and
 * credited to whichever team took it. As in the paper, interleaving stops as soon as either ranking
 * has nothing left to give, even mid-round (or when the list reaches `length`): letting one team
 * keep picking alone would unbalance the teams, and the balance (never more than one pick apart) is
 * what makes their clicks comparable. So the list can be shorter than `length` when one ranking is
 * short or mostly duplicates the other.
 *
 * A coin is drawn only when the teams are level and a pick follows, once per round, so a recorded
 * seed replays the list. Duplicates within one ranking count at their first position.
 *
 * Throws a RangeError when `length` is not a non-negative integer or `random` returns a value
 * outside [0, 1).
 */
export function teamDraft<T>(
  a: readonly T[],
  b: readonly T[],
  random: () => number,
  options?: TeamDraftOptions<T>,
): InterleavedItem<T>[] {
  const keyOf: (item: T) => unknown = options?.key ?? ((item) => item);
  const ranksA = firstRanks(a, keyOf);
  const ranksB = firstRanks(b, keyOf);
  const union = new Set([...ranksA.keys(), ...ranksB.keys()]).size;
  const length = options?.length ?? union;
  if (!(Number.isSafeInteger(length) && length >= 0)) {
    throw new RangeError(`teamDraft: options.length must be a non-negative integer, got ${length}`);
  }

  const out: InterleavedItem<T>[] = [];
  const taken = new Set<unknown>();
  // Cursors only move forward: everything above a cursor is already in the list.
  let nextA = 0;
  let nextB = 0;
  let countA = 0;
  let countB = 0;
  const advance = (list: readonly T[], from: number): number => {
    let i = from;
    while (i < list.length && taken.has(keyOf(list[i] as T))) i++;
    return i;
  };
  const pick = (team: Team, item: T): void => {
    const k = keyOf(item);
    taken.add(k);
    const entry: InterleavedItem<T> = { item, team };
    const rankA = ranksA.get(k);
    const rankB = ranksB.get(k);
    if (rankA !== undefined) entry.rankA = rankA;
    if (rankB !== undefined) entry.rankB = rankB;
    out.push(entry);
  };

  while (out.length < length) {
    nextA = advance(a, nextA);
    nextB = advance(b, nextB);
    if (nextA >= a.length || nextB >= b.length) break;
    let aPicks: boolean;
    if (countA === countB) {
      const u = random();
      if (!(u >= 0 && u < 1))
        throw new RangeError(`teamDraft: random() must return a number in [0, 1), got ${u}`);
      aPicks = u < 0.5;
    } else {
      aPicks = countA < countB;
    }
    if (aPicks) {
      pick("A", a[nextA] as T);
      countA++;
    } else {
      pick("B", b[nextB] as T);
      countB++;
    }
  }
  return out;
}

/** Key → 0-based rank of its first occurrence in one ranking. */
function firstRanks<T>(list: readonly T[], keyOf: (item: T) => unknown): Map<unknown, number> {
  const ranks = new Map<unknown, number>();
  list.forEach((item, i) => {
    const k = keyOf(item);
    if (!ranks.has(k)) ranks.set(k, i);
  });
  return ranks;
}

/**
 * A seeded uniform source on [0, 1) for `teamDraft`, so a query's seed can be logged and its list
 * replayed. Mersenne Twister mt19937 seeded with init_genrand(seed), 53-bit draws: the same stream
 * as numpy's `np.random.RandomState(seed).random_sample()`, so a seed also replays in Python.
 *
 * Throws a RangeError unless `seed` is an integer in [1, 2³² − 1] (the range mt19937 accepts).
 */
export function seededRandom(seed: number): () => number {
  if (!(Number.isInteger(seed) && seed >= 1 && seed <= 0xffffffff)) {
    throw new RangeError(`seededRandom: seed must be an integer in [1, 4294967295], got ${seed}`);
  }
  return uniform.factory(0, 1, { seed });
}

/** Clicks credited to each team on one query, and the team the query prefers. */
export interface QueryCredit {
  /** Clicked results team A placed. */
  a: number;
  /** Clicked results team B placed. */
  b: number;
  /** +1 when A got more clicks, −1 when B did, 0 on a tie or no click. */
  preference: -1 | 0 | 1;
}

/**
 * Credits the clicks of one query to the teams that placed the clicked results (Radlinski et al.
 * 2008: the team with more clicked results wins the query). `clickedPositions` are 0-based
 * positions in `list`; a position clicked twice counts once, since the method counts clicked
 * results, not click events.
 *
 * Throws a RangeError when a position is not an integer inside the list.
 */
export function queryCredit(
  list: readonly InterleavedItem<unknown>[],
  clickedPositions: readonly number[],
): QueryCredit {
  const clicked = new Set<number>();
  for (const p of clickedPositions) {
    if (!(Number.isInteger(p) && p >= 0 && p < list.length)) {
      throw new RangeError(
        `queryCredit: clicked position ${p} is not a 0-based position in a list of ${list.length} results`,
      );
    }
    clicked.add(p);
  }
  let a = 0;
  let b = 0;
  for (const p of clicked) {
    if (list[p]?.team === "A") a++;
    else b++;
  }
  return { a, b, preference: a > b ? 1 : a < b ? -1 : 0 };
}

/** Outcome of an interleaving experiment: which ranker users prefer, and how sure that is. */
export interface InterleavingResult {
  /** Queries analysed. */
  queries: number;
  /** Queries with at least one click: winsA + winsB + ties. */
  withClicks: number;
  winsA: number;
  winsB: number;
  /** Queries with clicks where both teams got as many (queries without clicks are not ties). */
  ties: number;
  /**
   * Share of decided queries won by B, winsB / (winsA + winsB), ties excluded: 0.5 means no
   * preference. NaN when no query was decided. This is the quantity the sign test and `ci` are about.
   */
  preferenceB: number;
  /**
   * Two-sided 1 − alpha Wilson score interval of `preferenceB` (statsmodels
   * `proportion_confint(winsB, winsA + winsB, alpha, method="wilson")`). Unlike the Wald interval it
   * stays inside [0, 1] and keeps its coverage near 0 and 1. [0, 1] when no query was decided.
   */
  ci: Interval;
  /** Two-sided exact sign test of winsB against winsA (scipy `binomtest`); 1 when none was decided. */
  signTestP: number;
  /**
   * (winsB + ties / 2) / withClicks: B's share of the queries with clicks, a tie counting as half a
   * win. This is the convention of Chapelle et al. (2012), whose Δ_AB is this minus 0.5 (read with B
   * as their A); it moves toward 0.5 as ties grow, so it is smaller in magnitude than `preferenceB`
   * for the same data. NaN when no query had a click.
   */
  preferenceBWithTies: number;
}

/**
 * Aggregates per-query credits (from `queryCredit`) into B's preference over A, its Wilson interval
 * and the sign test. Queries are assumed independent: when one user issues many queries, analyse
 * per user (or cluster) instead, since a user's queries lean the same way.
 *
 * Throws a RangeError for alpha outside (0, 1) or a credit whose counts are not non-negative
 * integers or whose preference disagrees with its counts.
 */
export function analyzeInterleaving(credits: readonly QueryCredit[], alpha: number): InterleavingResult {
  if (!(alpha > 0 && alpha < 1)) {
    throw new RangeError(`analyzeInterleaving: alpha must be in (0, 1), got ${alpha}`);
  }
  let winsA = 0;
  let winsB = 0;
  let ties = 0;
  credits.forEach((c, i) => {
    if (!(Number.isSafeInteger(c.a) && c.a >= 0 && Number.isSafeInteger(c.b) && c.b >= 0)) {
      throw new RangeError(
        `analyzeInterleaving: credit ${i} needs non-negative integer clicks, got a=${c.a}, b=${c.b}`,
      );
    }
    const expected = Math.sign(c.a - c.b);
    if (c.preference !== expected) {
      throw new RangeError(
        `analyzeInterleaving: credit ${i} has preference ${c.preference} but clicks a=${c.a}, b=${c.b} give ${expected}`,
      );
    }
    if (c.preference === 1) winsA++;
    else if (c.preference === -1) winsB++;
    else if (c.a > 0) ties++;
  });
  const decided = winsA + winsB;
  const withClicks = decided + ties;
  return {
    queries: credits.length,
    withClicks,
    winsA,
    winsB,
    ties,
    preferenceB: decided > 0 ? winsB / decided : Number.NaN,
    ci: wilsonInterval(winsB, decided, alpha),
    signTestP: signTest(winsB, winsA).pValue,
    preferenceBWithTies: withClicks > 0 ? (winsB + ties / 2) / withClicks : Number.NaN,
  };
}
