/**
 * Sample size, minimum detectable effect and duration for a fixed-horizon two-arm test.
 *
 * Binary metrics follow R's `power.prop.test` (normal approximation, pooled variance under H0,
 * unpooled under H1, far tail of a two-sided test ignored), generalised to an allocation ratio
 * k = n_treatment / n_control exactly as statsmodels' `samplesize_proportions_2indep_onetail` does:
 *   n_c = ( z_α·sqrt(p̄q̄(1 + 1/k)) + z_β·sqrt(p₀q₀ + p₁q₁/k) )² / δ²,  p̄ = (p₀ + k·p₁)/(1 + k).
 * Continuous metrics use the normal (z) formula of statsmodels' `NormalIndPower`, not the t-based
 * `power.t.test`: n_c = (z_α + z_β)²·σ²·(1 + 1/k)/δ². At the sizes online experiments run at the
 * two differ by a unit or less.
 *
 * z_α is the 1 − α/2 quantile for a two-sided test and 1 − α for a one-sided one; z_β is the power
 * quantile. Each arm's requirement is rounded up on its own: n_t = ceil(k·n_c).
 */
import { normQuantile } from "./distributions.ts";

/** Two-sided tests split alpha over both tails; one-sided tests put it all in the tail of the effect. */
export type Alternative = "two-sided" | "one-sided";

/** Error rates and allocation a sample size is computed for. */
export interface SizingOptions {
  /** Significance level, e.g. 0.05. */
  alpha: number;
  /** Probability of detecting the effect when it is real, e.g. 0.8; must be in [0.5, 1). */
  power: number;
  /** Treatment units per control unit. Default 1. */
  ratio?: number;
  /** Default "two-sided" (alpha/2 per side). */
  alternative?: Alternative;
}

/** Units needed in each arm, rounded up per arm. */
export interface ArmSizes {
  control: number;
  treatment: number;
  total: number;
}

interface Resolved {
  zAlpha: number;
  zBeta: number;
  ratio: number;
}

function resolve(fn: string, opts: SizingOptions): Resolved {
  const { alpha, power } = opts;
  const ratio = opts.ratio ?? 1;
  const alternative = opts.alternative ?? "two-sided";
  if (alternative !== "two-sided" && alternative !== "one-sided") {
    throw new RangeError(`${fn}: alternative must be "two-sided" or "one-sided", got ${String(alternative)}`);
  }
  const tail = alternative === "two-sided" ? alpha / 2 : alpha;
  // One-sided alpha ≥ 0.5 would make z_α ≤ 0: the test would reject more often than not under H0.
  if (!(alpha > 0 && alpha < 1 && tail < 0.5)) {
    throw new RangeError(`${fn}: alpha must be in (0, 1) (below 0.5 when one-sided), got ${alpha}`);
  }
  // Below 0.5 the test misses a real effect more often than it finds it, and z_β < 0 would break the
  // monotone link between effect and sample size that the MDE inversion relies on.
  if (!(power >= 0.5 && power < 1)) {
    throw new RangeError(`${fn}: power must be in [0.5, 1), got ${power}`);
  }
  if (!(Number.isFinite(ratio) && ratio > 0)) {
    throw new RangeError(
      `${fn}: ratio (treatment units per control unit) must be finite and > 0, got ${ratio}`,
    );
  }
  return { zAlpha: -normQuantile(tail), zBeta: normQuantile(power), ratio };
}

function checkProportion(fn: string, name: string, p: number): void {
  if (!(p > 0 && p < 1)) throw new RangeError(`${fn}: ${name} must be a proportion in (0, 1), got ${p}`);
}

function checkPositive(fn: string, name: string, x: number): void {
  if (!(Number.isFinite(x) && x > 0)) throw new RangeError(`${fn}: ${name} must be finite and > 0, got ${x}`);
}

/** Real-valued control-arm requirement for proportions; p1 may reach 1 (the MDE search's far end). */
function binaryControlN(p0: number, p1: number, r: Resolved): number {
  const k = r.ratio;
  const pBar = (p0 + k * p1) / (1 + k);
  const sdNull = Math.sqrt(pBar * (1 - pBar) * (1 + 1 / k));
  const sdAlt = Math.sqrt(p0 * (1 - p0) + (p1 * (1 - p1)) / k);
  return (r.zAlpha * sdNull + r.zBeta * sdAlt) ** 2 / (p1 - p0) ** 2;
}

function continuousControlN(sd: number, delta: number, r: Resolved): number {
  return ((r.zAlpha + r.zBeta) ** 2 * sd ** 2 * (1 + 1 / r.ratio)) / delta ** 2;
}

function armSizes(controlN: number, ratio: number): ArmSizes {
  const control = Math.ceil(controlN);
  const treatment = Math.ceil(ratio * controlN);
  return { control, treatment, total: control + treatment };
}

/**
 * Units per arm to detect a change of a proportion from `p0` (control) to `p1` (treatment).
 * Anchors: 0.60 → 0.65 at α = 0.05, power 0.8 needs 1,471 per arm; 0.60 → 0.62 needs 18,672 in total.
 */
export function sampleSizeBinary(p0: number, p1: number, opts: SizingOptions): ArmSizes {
  const fn = "sampleSizeBinary";
  checkProportion(fn, "p0", p0);
  checkProportion(fn, "p1", p1);
  if (p0 === p1)
    throw new RangeError(`${fn}: p1 must differ from p0 (${p0}); no sample detects a zero effect`);
  const r = resolve(fn, opts);
  return armSizes(binaryControlN(p0, p1, r), r.ratio);
}

/** Units per arm to detect a shift `delta` in the mean of a metric with standard deviation `sd`. */
export function sampleSizeContinuous(sd: number, delta: number, opts: SizingOptions): ArmSizes {
  const fn = "sampleSizeContinuous";
  checkPositive(fn, "sd", sd);
  if (!(Number.isFinite(delta) && delta !== 0)) {
    throw new RangeError(`${fn}: delta must be finite and non-zero, got ${delta}`);
  }
  const r = resolve(fn, opts);
  return armSizes(continuousControlN(sd, delta, r), r.ratio);
}

/** Whole units available in control; fractional counts (traffic × fraction) are floored. */
function wholeUnits(fn: string, nControl: number): number {
  if (!(Number.isFinite(nControl) && nControl >= 1)) {
    throw new RangeError(`${fn}: nControl must be finite and ≥ 1, got ${nControl}`);
  }
  return Math.floor(nControl);
}

/**
 * The smallest absolute effect (p1 − p0 > 0) reachable with nControl control units.
 *
 * Inverts `sampleSizeBinary` by bisection (its requirement falls strictly as the effect grows, the
 * numerator being concave in p1), keeping the upper end of the bracket so that
 * `sampleSizeBinary(p0, p0 + mde, opts).control ≤ nControl` always holds. Throws a RangeError when
 * even p1 → 1 needs more units than there are.
 */
export function mdeBinary(p0: number, nControl: number, opts: SizingOptions): number {
  const fn = "mdeBinary";
  checkProportion(fn, "p0", p0);
  const n = wholeUnits(fn, nControl);
  const r = resolve(fn, opts);
  // Evaluate at p0 + δ exactly as sampleSizeBinary will, so the round trip sees the same numbers.
  const fits = (delta: number) => binaryControlN(p0, p0 + delta, r) <= n;
  let lo = 0;
  let hi = 1 - p0;
  while (p0 + hi >= 1) hi *= 1 - Number.EPSILON;
  if (!fits(hi)) {
    const needed = Math.ceil(binaryControlN(p0, 1, r));
    throw new RangeError(
      `${fn}: ${n} control units cannot detect any rise from ${p0}; even p1 → 1 needs ${needed}`,
    );
  }
  // 200 halvings take any bracket in (0, 1) below double precision; stop once it cannot shrink.
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (mid <= lo || mid >= hi) break;
    if (fits(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * The smallest absolute shift in the mean detectable with nControl control units, for a metric
 * with standard deviation `sd`: (z_α + z_β)·sd·sqrt((1 + 1/k)/n). Nudged up past rounding so that
 * `sampleSizeContinuous(sd, mde, opts).control ≤ nControl` always holds.
 */
export function mdeContinuous(sd: number, nControl: number, opts: SizingOptions): number {
  const fn = "mdeContinuous";
  checkPositive(fn, "sd", sd);
  const n = wholeUnits(fn, nControl);
  const r = resolve(fn, opts);
  let mde = (r.zAlpha + r.zBeta) * sd * Math.sqrt((1 + 1 / r.ratio) / n);
  // The closed form can land one ulp on the wrong side of n; a few ulps up fixes it.
  while (continuousControlN(sd, mde, r) > n) mde *= 1 + 2 * Number.EPSILON;
  return mde;
}

/**
 * Whole days to reach `total` units when `dailyUnits` units arrive per day and `exposedFraction`
 * of them (default 1) enter the experiment.
 */
export function durationDays(total: number, dailyUnits: number, exposedFraction = 1): number {
  const fn = "durationDays";
  if (!(Number.isFinite(total) && total >= 0))
    throw new RangeError(`${fn}: total must be finite and ≥ 0, got ${total}`);
  checkPositive(fn, "dailyUnits", dailyUnits);
  if (!(exposedFraction > 0 && exposedFraction <= 1)) {
    throw new RangeError(`${fn}: exposedFraction must be in (0, 1], got ${exposedFraction}`);
  }
  // A fraction such as 0.1 is not exact in binary; without the slack 10/(100·0.1) could round up a day.
  return Math.max(0, Math.ceil(total / (dailyUnits * exposedFraction) - 1e-9));
}
