/**
 * Sample-ratio mismatch (SRM): did units land in the arms in the proportions the allocation promised?
 *
 * A mismatch means assignment or logging is broken (bots filtered in one arm, a crash that loses
 * exposures, a redirect that drops units), and then no effect estimate can be trusted. The test is
 * Pearson's chi-square goodness of fit, as scipy's `chisquare(f_obs, f_exp)` computes it.
 */
import { chisqSf } from "./distributions.ts";

/** Outcome of one goodness-of-fit test of unit counts against the planned allocation. */
export interface SrmResult {
  /** Pearson's statistic Σ (observed − expected)² / expected. */
  chi2: number;
  /** Degrees of freedom: arms with a positive share, minus one. */
  df: number;
  /** Upper-tail probability of `chi2` under the planned allocation. */
  pValue: number;
  /** True when `pValue < threshold`: stop reading effects until the cause is found. */
  alarm: boolean;
  /** Unit counts per arm, as given. */
  observed: number[];
  /** Counts the allocation predicts for the same total. */
  expected: number[];
  /** The p-value below which the test alarms. */
  threshold: number;
}

/** Options shared by the SRM tests. */
export interface SrmOptions {
  /**
   * Alarm when p is below this. Default 0.001: the test runs on every look of every experiment,
   * so a strict threshold keeps false alarms rare while real SRMs, which are usually gross, still
   * fire within hours.
   */
  threshold?: number;
}

const DEFAULT_THRESHOLD = 0.001;

/**
 * Chi-square goodness of fit of observed unit counts per arm against expected shares (any number
 * of arms; shares are normalised, so `[10, 90]` and `[0.1, 0.9]` mean the same). Alarm when
 * p < threshold (default 0.001).
 *
 * An arm with share 0 (a phase with no treatment traffic) adds no degree of freedom; if it received
 * any unit at all, the mismatch is certain and the result is chi2 = ∞, p = 0.
 *
 * @throws RangeError on mismatched lengths, fewer than two arms, negative or fractional counts,
 * negative or non-finite shares, a zero total of counts or of shares, or a threshold outside (0, 1).
 */
export function srmTest(
  observed: readonly number[],
  expectedShares: readonly number[],
  opts: SrmOptions = {},
): SrmResult {
  const threshold = checkThreshold(opts.threshold);
  if (observed.length !== expectedShares.length) {
    throw new RangeError(
      `observed has ${observed.length} arms but expectedShares has ${expectedShares.length}; give one share per arm`,
    );
  }
  if (observed.length < 2) {
    throw new RangeError(`an SRM test needs at least two arms, got ${observed.length}`);
  }
  observed.forEach((count, i) => {
    if (!(Number.isInteger(count) && count >= 0)) {
      throw new RangeError(`observed[${i}] is ${count}; unit counts must be non-negative integers`);
    }
  });
  expectedShares.forEach((share, i) => {
    if (!(Number.isFinite(share) && share >= 0)) {
      throw new RangeError(`expectedShares[${i}] is ${share}; shares must be finite and non-negative`);
    }
  });
  const total = sum(observed);
  if (total === 0) {
    throw new RangeError("observed counts sum to 0; there are no assignments to test yet");
  }
  const shareTotal = sum(expectedShares);
  if (shareTotal === 0) {
    throw new RangeError("expectedShares sum to 0; at least one arm must receive traffic");
  }

  const expected = expectedShares.map((share) => (total * share) / shareTotal);
  let chi2 = 0;
  let activeArms = 0;
  observed.forEach((count, i) => {
    const e = expected[i]!;
    if (e > 0) {
      activeArms++;
      chi2 += (count - e) ** 2 / e;
    } else if (count > 0) {
      chi2 = Number.POSITIVE_INFINITY;
    }
  });
  const df = activeArms - 1;
  return finish(chi2, df, threshold, [...observed], expected);
}

/** One allocation phase of a ramp: the units first assigned while `expectedShares` was in force. */
export interface SrmPhase {
  /** Names the phase in results and errors, e.g. "10%" or "2024-05-01 ramp to 50%". */
  label: string;
  /** Allocation in force during the phase, one share per arm. */
  expectedShares: number[];
  /** Units first assigned during the phase, one count per arm (not cumulative). */
  observed: number[];
}

/** Per-phase SRM tests and their combination. */
export interface PhasedSrmResult {
  /** One test per phase, in input order. */
  phases: (SrmResult & { label: string })[];
  /**
   * Sum of the phase statistics and degrees of freedom; `observed` and `expected` are per-arm
   * totals over phases, each phase's expectation taken at its own allocation.
   */
  combined: SrmResult;
}

/**
 * Ramps make allocation phases: each phase's new assignments are tested against that phase's
 * shares, and the phases combine by summing chi-square and df (independent phases). Never pool
 * counts across phases: pooling 10 % and 50 % phases against any single share alarms on a healthy
 * ramp and can hide a broken one.
 *
 * Drop phases that received no new assignments before calling; they carry no information.
 *
 * @throws RangeError on an empty list, phases with differing arm counts, or any per-phase problem
 * that {@link srmTest} rejects (the message names the phase).
 */
export function srmTestByPhase(phases: readonly SrmPhase[], opts: SrmOptions = {}): PhasedSrmResult {
  const threshold = checkThreshold(opts.threshold);
  const first = phases[0];
  if (first === undefined) {
    throw new RangeError("no phases given; pass at least one allocation phase");
  }
  const arms = first.observed.length;
  const results = phases.map((phase) => {
    if (phase.observed.length !== arms) {
      throw new RangeError(
        `phase "${phase.label}" has ${phase.observed.length} arms but phase "${first.label}" has ${arms}; every phase must list the same arms`,
      );
    }
    try {
      return { label: phase.label, ...srmTest(phase.observed, phase.expectedShares, { threshold }) };
    } catch (error) {
      if (error instanceof RangeError) throw new RangeError(`phase "${phase.label}": ${error.message}`);
      throw error;
    }
  });

  const observed = new Array<number>(arms).fill(0);
  const expected = new Array<number>(arms).fill(0);
  for (const r of results) {
    for (let i = 0; i < arms; i++) {
      observed[i]! += r.observed[i]!;
      expected[i]! += r.expected[i]!;
    }
  }
  const chi2 = sum(results.map((r) => r.chi2));
  const df = sum(results.map((r) => r.df));
  return { phases: results, combined: finish(chi2, df, threshold, observed, expected) };
}

function finish(
  chi2: number,
  df: number,
  threshold: number,
  observed: number[],
  expected: number[],
): SrmResult {
  // df 0 means a single arm could receive traffic: nothing can mismatch unless a unit strayed (∞).
  let pValue: number;
  if (chi2 === Number.POSITIVE_INFINITY) pValue = 0;
  else if (df === 0) pValue = 1;
  else pValue = chisqSf(chi2, df);
  return { chi2, df, pValue, alarm: pValue < threshold, observed, expected, threshold };
}

function checkThreshold(threshold: number | undefined): number {
  const t = threshold ?? DEFAULT_THRESHOLD;
  if (!(t > 0 && t < 1)) {
    throw new RangeError(`threshold is ${t}; it must be a p-value cut-off strictly between 0 and 1`);
  }
  return t;
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}
