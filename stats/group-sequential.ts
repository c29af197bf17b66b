/**
 * Two-sided symmetric group-sequential designs with Lan–DeMets alpha spending.
 *
 * Boundaries come from the recursive numerical integration of Armitage, McPherson & Rowe (1969)
 * as laid out in Jennison & Turnbull (2000), ch. 19 — the algorithm behind gsDesign's `gsbound`.
 * The z-statistic at information fraction t is Z(t) = B(t)/√t for a Brownian motion B with drift
 * δ, so E[Z_k] = δ√t_k and corr(Z_i, Z_j) = √(t_i/t_j); δ is the expected z at the final look.
 * The sub-density of Z_k on paths that have not yet stopped is carried from look to look on a
 * grid with Simpson weights, and each look's boundary is the root of "probability of first
 * crossing here = this look's spending increment".
 */
import { normCdf, normPdf, normQuantile, normSf, twoSidedNormalP } from "./distributions.ts";
import { alphaSpent, type SpendingKind } from "./spending.ts";

/** A registered design: what the monitor needs at every look, and what a report prints. */
export interface SequentialDesign {
  /** Information fractions, strictly increasing, last = 1. */
  looks: number[];
  /** Two-sided type I error of the whole design. */
  alpha: number;
  spending: SpendingKind;
  /** Two-sided |z| efficacy boundary per look (Infinity where the spend underflows to 0). */
  boundaries: number[];
  /** Two-sided alpha spent through each look. */
  cumulativeAlpha: number[];
  /** Two-sided nominal p-value of each boundary, 2(1 − Φ(b)). */
  nominalPValues: number[];
}

/** First-crossing probabilities per look, split by side. */
export interface CrossingProbabilities {
  /** P(Z_k ≥ b_k and no earlier crossing). */
  upper: number[];
  /** P(Z_k ≤ −b_k and no earlier crossing). */
  lower: number[];
}

/**
 * Grid density: J&T show r = 16 already gives error probabilities to about 1e-6 (gsDesign uses
 * 18); r = 32 keeps boundaries well inside 1e-6 and still costs only ~400 points per look.
 */
const GRID_R = 32;

/** Grid points per spread of the step between neighbouring looks (see gridDensity). */
const POINTS_PER_STEP_SD = 8;

/**
 * Smallest information gap between looks: the grid must grow like 1/√gap (see gridDensity) and
 * the work like 1/gap, and looks this close are one look in practice anyway.
 */
const MIN_LOOK_GAP = 1e-3;

/**
 * The grid parameter r for the density at look time t, between looks at tPrev and tNext. A step
 * of information d seen on this look's z scale has spread √(d/t): the density here is smoothed
 * over the spread from tPrev (a near-cliff where the last boundary was), and the next crossing
 * probability integrates a normal CDF over the spread to tNext. Once either spread nears the core
 * spacing 3/(4r), Simpson's rule loses accuracy, so r grows to keep POINTS_PER_STEP_SD points per
 * spread.
 */
function gridDensity(tPrev: number, t: number, tNext: number): number {
  const spread = Math.sqrt(Math.min(t - tPrev, tNext - t) / t);
  return Math.max(GRID_R, Math.ceil((3 * POINTS_PER_STEP_SD) / (4 * spread)));
}

/** Z_k values on the continuation region and h = Simpson weight × sub-density there. */
interface LookState {
  t: number;
  z: Float64Array;
  h: Float64Array;
}

/** Before the first look every path sits at 0 with probability 1; this makes look 1 ordinary. */
const START: LookState = { t: 0, z: Float64Array.of(0), h: Float64Array.of(1) };

/**
 * The Jennison & Turnbull grid centred on the mean of Z_k: dense within ±3 SD, log-spaced out
 * to ±(3 + 4 ln r), trimmed to (lo, hi), with midpoints added so Simpson's rule applies.
 */
function simpsonGrid(mean: number, lo: number, hi: number, r: number): { z: Float64Array; w: Float64Array } {
  const base: number[] = [];
  for (let i = 1; i < r; i++) base.push(mean - 3 - 4 * Math.log(r / i));
  for (let i = r; i <= 5 * r; i++) base.push(mean - 3 + (3 * (i - r)) / (2 * r));
  for (let i = 5 * r + 1; i < 6 * r; i++) base.push(mean + 3 + 4 * Math.log(r / (6 * r - i)));
  const start = Math.max(lo, base[0]!);
  const end = Math.min(hi, base[base.length - 1]!);
  // Beyond the grid (3 + 4 ln r ≥ 17 SD from the mean) no probability a double can hold remains.
  if (!(start < end)) return { z: new Float64Array(0), w: new Float64Array(0) };
  const nodes = [start, ...base.filter((x) => x > start && x < end), end];
  const m = 2 * nodes.length - 1;
  const z = new Float64Array(m);
  const w = new Float64Array(m);
  for (let j = 0; j < nodes.length - 1; j++) {
    const a = nodes[j]!;
    const b = nodes[j + 1]!;
    const d = b - a;
    z[2 * j] = a;
    z[2 * j + 1] = (a + b) / 2;
    w[2 * j]! += d / 6;
    w[2 * j + 1]! += (4 * d) / 6;
    w[2 * j + 2]! += d / 6;
  }
  z[m - 1] = nodes[nodes.length - 1]!;
  return { z, w };
}

/** Mean of B(t) given Z at the previous look, for each grid point. */
function conditionalMeans(prev: LookState, t: number, drift: number): Float64Array {
  const root = Math.sqrt(prev.t);
  const dt = t - prev.t;
  return prev.z.map((z) => z * root + drift * dt);
}

/** Probability of crossing ±b at look time t for the first time, given the state at the last look. */
function crossAt(prev: LookState, t: number, b: number, drift: number): { upper: number; lower: number } {
  const means = conditionalMeans(prev, t, drift);
  const sd = Math.sqrt(t - prev.t);
  const edge = b * Math.sqrt(t);
  let upper = 0;
  let lower = 0;
  for (let i = 0; i < means.length; i++) {
    const h = prev.h[i]!;
    upper += h * normSf((edge - means[i]!) / sd);
    lower += h * normCdf((-edge - means[i]!) / sd);
  }
  return { upper, lower };
}

/** Sub-density of Z at look time t on the continuation region (−b, b), on a grid of density r. */
function advance(prev: LookState, t: number, b: number, drift: number, r: number): LookState {
  const { z, w } = simpsonGrid(drift * Math.sqrt(t), -b, b, r);
  const means = conditionalMeans(prev, t, drift);
  const sd = Math.sqrt(t - prev.t);
  const root = Math.sqrt(t);
  const jacobian = root / sd; // density of Z_k = √t_k × density of B(t_k)
  const h = new Float64Array(z.length);
  for (let j = 0; j < z.length; j++) {
    const s = z[j]! * root;
    let g = 0;
    for (let i = 0; i < means.length; i++) g += prev.h[i]! * normPdf((s - means[i]!) / sd);
    h[j] = w[j]! * g * jacobian;
  }
  return { t, z, h };
}

/** The boundary b with P(first crossing of ±b at this look) = increment, by bisection. */
function solveBoundary(prev: LookState, t: number, increment: number): number {
  if (!(increment > 0)) return Number.POSITIVE_INFINITY; // the spend underflowed: this look cannot stop
  const spent = (b: number) => {
    const { upper, lower } = crossAt(prev, t, b, 0);
    return upper + lower;
  };
  let lo = 0;
  let hi = 1;
  while (spent(hi) > increment) {
    lo = hi;
    hi *= 2;
  }
  // Crossing probability falls monotonically in b, so bisection cannot miss the root.
  while (hi - lo > 1e-12 * hi) {
    const mid = (lo + hi) / 2;
    if (spent(mid) > increment) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function checkLooks(looks: readonly number[]): number[] {
  const ok =
    looks.length > 0 &&
    looks.every((t, i) => Number.isFinite(t) && t > 0 && t <= 1 + 1e-9 && (i === 0 || t > looks[i - 1]!)) &&
    Math.abs(looks[looks.length - 1]! - 1) <= 1e-9;
  if (!ok) {
    throw new RangeError(
      `looks must be strictly increasing information fractions in (0, 1] ending at 1; got [${looks.join(", ")}]`,
    );
  }
  // Snap the final look to exactly 1 so "final look" tests are not at the mercy of rounding.
  const snapped = looks.map((t, i) => (i === looks.length - 1 ? 1 : t));
  const tooClose = snapped.findIndex((t, i) => i > 0 && t - snapped[i - 1]! < MIN_LOOK_GAP - 1e-12);
  if (tooClose > 0) {
    throw new RangeError(
      `looks ${snapped[tooClose - 1]} and ${snapped[tooClose]} are closer than ${MIN_LOOK_GAP} in information; merge them`,
    );
  }
  return snapped;
}

/**
 * First-crossing probabilities of the symmetric boundaries ±b_k at each look, when the final
 * look's z has mean `drift` (drift 0 is the null). Their sum over `upper` is the power of the
 * design against that drift; under the null, upper[k] + lower[k] is the alpha spent at look k.
 */
export function crossingProbabilities(
  looks: readonly number[],
  boundaries: readonly number[],
  drift = 0,
): CrossingProbabilities {
  const fractions = checkLooks(looks);
  if (boundaries.length !== fractions.length || !boundaries.every((b) => b > 0)) {
    throw new RangeError(
      `need one positive boundary per look (${fractions.length}); got [${boundaries.join(", ")}]`,
    );
  }
  const upper: number[] = [];
  const lower: number[] = [];
  let state = START;
  fractions.forEach((t, k) => {
    const b = boundaries[k]!;
    const cross = crossAt(state, t, b, drift);
    upper.push(cross.upper);
    lower.push(cross.lower);
    const next = fractions[k + 1];
    if (next !== undefined) state = advance(state, t, b, drift, gridDensity(state.t, t, next));
  });
  return { upper, lower };
}

/**
 * Solve a two-sided symmetric Lan–DeMets design: at each look, the boundary whose probability of
 * first crossing (either side, under the null) equals that look's spending increment.
 * Throws a RangeError naming the bad field for malformed looks or alpha.
 */
export function groupSequentialDesign(opts: {
  looks: number[];
  alpha: number;
  spending: SpendingKind;
}): SequentialDesign {
  const looks = checkLooks(opts.looks);
  const cumulativeAlpha = looks.map((t) => alphaSpent(opts.spending, opts.alpha, t));
  const boundaries: number[] = [];
  let state = START;
  looks.forEach((t, k) => {
    const increment = cumulativeAlpha[k]! - (k === 0 ? 0 : cumulativeAlpha[k - 1]!);
    const b = solveBoundary(state, t, increment);
    boundaries.push(b);
    const next = looks[k + 1];
    if (next !== undefined) state = advance(state, t, b, 0, gridDensity(state.t, t, next));
  });
  return {
    looks,
    alpha: opts.alpha,
    spending: opts.spending,
    boundaries,
    cumulativeAlpha,
    nominalPValues: boundaries.map((b) => twoSidedNormalP(b)),
  };
}

/**
 * Maximum sample size of the sequential design relative to the fixed-horizon test with the same
 * two-sided alpha and power: n_max / n_fixed = (δ_seq / δ_fixed)², where δ_fixed = z_{1−α/2} + z_power
 * and δ_seq is the drift at which the design crosses the upper boundary with probability `power`.
 * Both ignore rejections on the wrong side, as gsDesign does. Multiply a fixed-horizon n by it.
 */
export function inflationFactor(design: SequentialDesign, power: number): number {
  const halfAlpha = design.alpha / 2;
  if (!(power > halfAlpha && power < 1)) {
    throw new RangeError(
      `power must be in (${halfAlpha}, 1) for a design at alpha ${design.alpha}; got ${power}`,
    );
  }
  const fixedDrift = -normQuantile(halfAlpha) + normQuantile(power);
  const shortfall = (drift: number) =>
    crossingProbabilities(design.looks, design.boundaries, drift).upper.reduce((a, b) => a + b, 0) - power;
  // A sequential test never beats the fixed test on the same final information (the final z is
  // sufficient for the drift), so the root lies above fixedDrift.
  let lo = fixedDrift * 0.999;
  let hi = fixedDrift * 1.5;
  let fLo = shortfall(lo);
  let fHi = shortfall(hi);
  while (fHi < 0) {
    [lo, fLo] = [hi, fHi];
    hi *= 1.5;
    fHi = shortfall(hi);
  }
  // Power is smooth and increasing in the drift, so the Illinois variant of regula falsi gets
  // there in a handful of full recursions where bisection would need thirty-odd.
  let drift = hi;
  let kept = 0;
  for (let i = 0; i < 100 && hi - lo > 1e-12 * hi; i++) {
    drift = (lo * fHi - hi * fLo) / (fHi - fLo);
    const f = shortfall(drift);
    if (Math.abs(f) <= 1e-13) break;
    if (f < 0) {
      [lo, fLo] = [drift, f];
      if (kept === -1) fHi /= 2;
      kept = -1;
    } else {
      [hi, fHi] = [drift, f];
      if (kept === 1) fLo /= 2;
      kept = 1;
    }
  }
  return (drift / fixedDrift) ** 2;
}
