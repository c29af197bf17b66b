/**
 * Pairwise win rate of treatment over control on the gate's golden cases, and the sign test on
 * per-case wins.
 *
 * Each case ends in one outcome (the pairwise judge asked in both orders; disagreeing orders are
 * already a tie). A tie counts as half a win, so the rate is the mean of per-case scores
 * 1 / 0.5 / 0 and its interval is the one-sample t interval of that mean. The sign test asks the
 * narrower question whether decided cases lean one way, ignoring ties.
 */
import { betaCdf, tQuantile } from "./distributions.ts";
import type { Interval } from "./effect.ts";

/** How treatment's answer fared against control's on one case. */
export type PairOutcome = "win" | "loss" | "tie";

/** Win rate of treatment against control over a set of cases. */
export interface WinRate {
  /** Number of cases. */
  n: number;
  wins: number;
  losses: number;
  ties: number;
  /** (wins + ties / 2) / n. */
  rate: number;
  /** Two-sided 1 − alpha t interval of the mean per-case score; [rate, rate] when every score is equal. */
  ci: Interval;
  /** How the interval was computed, for reports. */
  method: string;
}

/** Sign test of wins against losses, ties dropped. */
export interface SignTest {
  /** Decided cases: wins + losses. */
  n: number;
  wins: number;
  losses: number;
  /** Two-sided exact binomial p-value at p = 0.5; 1 when no case was decided. */
  pValue: number;
}

const SCORE: Readonly<Record<PairOutcome, number>> = { win: 1, tie: 0.5, loss: 0 };

const WIN_RATE_METHOD = "t interval of per-case scores (win 1, tie 0.5, loss 0)";

/**
 * Win rate with ties as half a win and a two-sided (1 − alpha) t interval on n − 1 degrees of
 * freedom. Matches statsmodels `DescrStatsW(scores).tconfint_mean(alpha)` on the scores 1 / 0.5 / 0.
 *
 * The interval is not clipped to [0, 1]: with a handful of cases the t quantile is large and the
 * interval runs past the ends, which says honestly that the data pin down little (and a lower
 * bound below 0 still fails any threshold). When every score is equal, including n = 1, the
 * sample has no spread and the interval collapses to [rate, rate] (statsmodels gives NaN at n = 1).
 *
 * Throws a RangeError for no outcomes, an unknown outcome, or alpha outside (0, 1).
 */
export function winRate(outcomes: readonly PairOutcome[], alpha: number): WinRate {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`winRate: alpha must be in (0, 1), got ${alpha}`);
  const n = outcomes.length;
  if (n === 0) throw new RangeError("winRate: no outcomes; a win rate needs at least one judged case");
  let wins = 0;
  let losses = 0;
  let ties = 0;
  outcomes.forEach((o, i) => {
    if (o === "win") wins++;
    else if (o === "loss") losses++;
    else if (o === "tie") ties++;
    else {
      throw new RangeError(`winRate: outcome ${i} must be "win", "loss" or "tie", got ${JSON.stringify(o)}`);
    }
  });
  const rate = (wins + ties / 2) / n;
  const method = `${WIN_RATE_METHOD}, two-sided ${formatConfidence(alpha)}`;
  // Only one kind of outcome: the t interval would be rate ± t·0, and at n = 1 its df would be 0.
  if (wins === n || losses === n || ties === n) {
    return { n, wins, losses, ties, rate, ci: [rate, rate], method };
  }
  let m2 = 0;
  for (const o of outcomes) m2 += (SCORE[o] - rate) ** 2;
  const se = Math.sqrt(m2 / (n - 1) / n);
  const half = tQuantile(1 - alpha / 2, n - 1) * se;
  return { n, wins, losses, ties, rate, ci: [rate - half, rate + half], method };
}

/**
 * Two-sided exact sign test: is the number of wins among decided cases (wins + losses) consistent
 * with a fair coin? Matches scipy `binomtest(wins, wins + losses, 0.5).pvalue`, which at p = 0.5
 * (a symmetric distribution) is min(1, 2 · P(X ≤ min(wins, losses))). No decided case gives p = 1.
 *
 * Throws a RangeError when a count is not a non-negative integer.
 */
export function signTest(wins: number, losses: number): SignTest {
  for (const [field, v] of [
    ["wins", wins],
    ["losses", losses],
  ] as const) {
    if (!(Number.isSafeInteger(v) && v >= 0)) {
      throw new RangeError(`signTest: ${field} must be a non-negative integer, got ${v}`);
    }
  }
  const n = wins + losses;
  const k = Math.min(wins, losses);
  if (2 * k === n) return { n, wins, losses, pValue: 1 };
  // Binomial(n, 1/2) lower tail through the regularized incomplete beta: P(X ≤ k) = I_{1/2}(n − k, k + 1).
  const lower = betaCdf(0.5, n - k, k + 1);
  return { n, wins, losses, pValue: Math.min(1, 2 * lower) };
}

/** "95%" for alpha 0.05, "99.5%" for 0.005: confidence as a person reads it. */
function formatConfidence(alpha: number): string {
  return `${Number(((1 - alpha) * 100).toPrecision(10))}%`;
}
