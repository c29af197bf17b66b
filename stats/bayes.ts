/**
 * Beta–Binomial summaries of a binary metric: chance that treatment beats control, the expected
 * loss of shipping it, and per-arm credible intervals.
 *
 * Method: adaptive Gauss–Kronrod quadrature (7/15 points, QUADPACK's error estimate and strategy,
 * target error 1e-10) of integrands built from the Beta CDF and quantile in `distributions.ts`:
 *
 *   P(p_T > p_C)         = ∫ f_T(x) F_C(x) dx / ∫ f_T(x) dx
 *   E[max(p_C − p_T, 0)] = ∫ P(p_T < x < p_C) dx = ∫ F_T(x) (1 − F_C(x)) dx
 *
 * Why quadrature rather than Evan Miller's closed-form sum: the sum needs an integer posterior α
 * (no Jeffreys or other fractional prior), costs one term per treatment success (thousands at
 * production sizes) and needs log-Beta values we would have to hand-roll. Here the density f_T is
 * used unnormalised and divided by its own integral over the same pieces, so no Beta function is
 * needed, and the expected loss needs no density at all.
 *
 * What keeps it accurate at any size: the integrals run only over the posteriors' mass (cut at the
 * 1e-15 quantiles) with breakpoints at inner quantiles, so a 20,000-unit posterior, a few
 * thousandths wide, is as easy as a 10-unit one; problems are reflected (p → 1 − p) so the mass sits
 * near 0, where doubles are dense; and where a posterior parameter is below 1 (fractional prior, no
 * successes or no failures) the density's unbounded edge is integrated in a variable that cancels
 * the singularity exactly. Checked against mpmath to 1e-14 (test/fixtures/gen_misc_reference.py).
 */

import { betaCdf, betaQuantile } from "./distributions.ts";
import { integrate } from "./quadrature.ts";

/** Beta prior on a rate; the default Beta(1, 1) is uniform. */
export interface BetaPrior {
  alpha: number;
  beta: number;
}

/** Units and successes observed in one arm. */
export interface BinomialArm {
  n: number;
  successes: number;
}

const UNIFORM_PRIOR: BetaPrior = { alpha: 1, beta: 1 };

/**
 * Smallest prior parameter accepted. Below it, an arm with no successes has a posterior whose mass
 * lies partly below 1e-308, where doubles (and so the Beta CDF) cannot follow it.
 */
const MIN_PRIOR = 0.1;

/**
 * P(p_T > p_C | data) under independent Beta priors, to about 1e-10 (see the file comment for the
 * method; posteriors of more than ~10⁸ units lose a little to the Beta CDF's own accuracy).
 *
 * @throws RangeError for counts that are not integers with 0 ≤ successes ≤ n, or a prior parameter
 * that is not finite or is below 0.1.
 */
export function chanceToBeatControl(
  control: BinomialArm,
  treatment: BinomialArm,
  prior: BetaPrior = UNIFORM_PRIOR,
): number {
  const c = posterior(control, prior, "control");
  const t = posterior(treatment, prior, "treatment");
  // Doubles are dense near 0 and sparse near 1: a posterior of 10⁸ successes is 10⁻⁸ wide next to 1,
  // where x itself is only resolved to 10⁻¹⁶. Reflecting p → 1 − p keeps the integrated density near 0.
  const value = mean(t) <= 0.5 ? winProbability(t, c) : 1 - winProbability(mirror(t), mirror(c));
  return clamp(value, 0, 1);
}

/**
 * Expected loss of shipping treatment, E[max(p_C − p_T, 0)]: how much rate we give up on average
 * if treatment is in fact worse. Same prior, validation and accuracy as {@link chanceToBeatControl}.
 */
export function expectedLoss(
  control: BinomialArm,
  treatment: BinomialArm,
  prior: BetaPrior = UNIFORM_PRIOR,
): number {
  const c = posterior(control, prior, "control");
  const t = posterior(treatment, prior, "treatment");
  // Reflected, C − T becomes T' − C': the same integral with the arms' roles swapped, nearer 0.
  const value = mean(c) + mean(t) <= 1 ? shortfall(c, t) : shortfall(mirror(t), mirror(c));
  return Math.max(0, value);
}

/**
 * Equal-tailed credible interval of one arm's rate: the (1 − level)/2 and (1 + level)/2 quantiles
 * of its Beta posterior.
 *
 * @throws RangeError when level is not strictly between 0 and 1, or on invalid counts or prior.
 */
export function credibleInterval(
  arm: BinomialArm,
  level: number,
  prior: BetaPrior = UNIFORM_PRIOR,
): [lower: number, upper: number] {
  if (!(level > 0 && level < 1)) {
    throw new RangeError(`level is ${level}; a credible level must be strictly between 0 and 1 (e.g. 0.95)`);
  }
  const { a, b } = posterior(arm, prior, "arm");
  return [betaQuantile((1 - level) / 2, a, b), betaQuantile((1 + level) / 2, a, b)];
}

/** P(X > Y), integrating X's density; X's mean must be at most 1/2 (reflect first). */
function winProbability(x: BetaParams, y: BetaParams): number {
  // F_Y climbs from 0 to 1 across Y's bulk, so Y's quantiles are breakpoints too.
  const parts = stretches(x, [...quantiles(x, INNER_QUANTILES), ...quantiles(y, INNER_QUANTILES)]);
  const cdfY = (p: number, tail: number) => (p <= 0.5 ? betaCdf(p, y.a, y.b) : 1 - betaCdf(tail, y.b, y.a));
  let mass = 0;
  for (const { edges, at } of parts) mass += integrate((s) => at(s).weight, edges, 0, TOLERANCE);
  let wins = 0;
  for (const { edges, at } of parts) {
    const f = (s: number) => {
      const p = at(s);
      return p.weight * cdfY(p.x, p.tail);
    };
    wins += integrate(f, edges, (TOLERANCE * mass) / parts.length);
  }
  return wins / mass;
}

/**
 * One stretch of [0, 1] in a variable s that makes X's density smooth there: `at(s)` gives x,
 * 1 − x (exact near 1) and the density (up to a constant shared by all stretches) times dx/ds.
 */
interface Stretch {
  edges: number[];
  at: (s: number) => { x: number; tail: number; weight: number };
}

/** Stretches covering X's mass (X's mean at most 1/2), first split at the given breakpoints. */
function stretches(x: BetaParams, breakpoints: readonly number[]): Stretch[] {
  const { a, b } = x;
  const m = mean(x);
  // Logs of x/m and (1 − x)/(1 − m); log1p keeps the exponent exact when a or b is in the millions.
  const logLeft = (p: number) => (Math.abs(p - m) < m / 2 ? Math.log1p((p - m) / m) : Math.log(p / m));
  const logRight = (p: number) => Math.log1p((m - p) / (1 - m));
  const parts: Stretch[] = [];
  // Below 1, x^(a−1) is unbounded at 0; with x = m s^(1/a) the Jacobian cancels it exactly.
  if (a < 1) {
    const k = 1 / a;
    parts.push({
      edges: between(
        0,
        1,
        breakpoints.filter((p) => p < m).map((p) => (p / m) ** a),
      ),
      at: (s) => {
        const p = m * s ** k;
        return { x: p, tail: 1 - p, weight: k * m * Math.exp((b - 1) * logRight(p)) };
      },
    });
  }
  // Likewise (1 − x)^(b−1) at 1, with 1 − x = ½ s^(1/b), carried as `tail` so it stays exact.
  const upper = b < 1 ? 0.5 : betaQuantile(1 - TAIL, a, b);
  const lo = a < 1 ? m : betaQuantile(TAIL, a, b);
  if (lo < upper) {
    parts.push({
      edges: between(lo, upper, breakpoints),
      at: (p) => ({ x: p, tail: 1 - p, weight: Math.exp((a - 1) * logLeft(p) + (b - 1) * logRight(p)) }),
    });
  }
  if (b < 1) {
    const k = 1 / b;
    const logAtHalf = (b - 1) * Math.log(0.5 / (1 - m));
    parts.push({
      edges: between(
        0,
        1,
        breakpoints.filter((p) => p > 0.5).map((p) => ((1 - p) / 0.5) ** b),
      ),
      at: (s) => {
        const tail = 0.5 * s ** k;
        const p = 1 - tail;
        return { x: p, tail, weight: 0.5 * k * Math.exp((a - 1) * logLeft(p) + logAtHalf) };
      },
    });
  }
  return parts;
}

/** E[max(C − T, 0)] = ∫ F_T (1 − F_C). */
function shortfall(c: BetaParams, t: BetaParams): number {
  // The integrand is at most min(F_T, 1 − F_C): negligible below treatment's 1e-15 quantile and
  // above control's 1 − 1e-15 quantile.
  const lo = betaQuantile(TAIL, t.a, t.b);
  const hi = betaQuantile(1 - TAIL, c.a, c.b);
  if (!(lo < hi)) return 0;
  const edges = between(lo, hi, [...quantiles(t, INNER_QUANTILES), ...quantiles(c, INNER_QUANTILES)]);
  return integrate((x) => betaCdf(x, t.a, t.b) * (1 - betaCdf(x, c.a, c.b)), edges, TOLERANCE);
}

function mirror({ a, b }: BetaParams): BetaParams {
  return { a: b, b: a };
}

function mean({ a, b }: BetaParams): number {
  return a / (a + b);
}

/** Parameters of a Beta posterior. */
interface BetaParams {
  a: number;
  b: number;
}

function posterior(arm: BinomialArm, prior: BetaPrior, name: string): BetaParams {
  const { n, successes } = arm;
  if (!(Number.isInteger(n) && n >= 0)) {
    throw new RangeError(`${name}.n is ${n}; it must be a non-negative integer count of units`);
  }
  if (!(Number.isInteger(successes) && successes >= 0 && successes <= n)) {
    throw new RangeError(`${name}.successes is ${successes}; it must be an integer between 0 and n (${n})`);
  }
  for (const key of ["alpha", "beta"] as const) {
    const v = prior[key];
    if (!(Number.isFinite(v) && v >= MIN_PRIOR)) {
      throw new RangeError(
        `prior.${key} is ${v}; Beta prior parameters must be finite and at least ${MIN_PRIOR} (Jeffreys is 0.5)`,
      );
    }
  }
  return { a: prior.alpha + successes, b: prior.beta + n - successes };
}

function quantiles({ a, b }: BetaParams, probabilities: readonly number[]): number[] {
  return probabilities.map((p) => betaQuantile(p, a, b));
}

/** `[lo, ...breakpoints strictly inside, hi]`, the edges of the first quadrature pieces. */
function between(lo: number, hi: number, breakpoints: readonly number[]): number[] {
  return [lo, ...breakpoints.filter((x) => x > lo && x < hi), hi];
}

/** Posterior mass left outside the integration range on each side. */
const TAIL = 1e-15;
/** Where the integrands turn: far tails, the shoulders and the middle of each posterior. */
const INNER_QUANTILES = [1e-12, 1e-6, 0.01, 0.5, 0.99, 1 - 1e-6, 1 - 1e-12];
/** Target error of each integral (relative to the density's mass where one is integrated). */
const TOLERANCE = 1e-10;

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
