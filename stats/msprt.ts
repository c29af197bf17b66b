/**
 * Always-valid p-values from the normal-mixture mSPRT (Robbins 1970; Johari, Koomen, Pekelis &
 * Walsh 2017, "Peeking at A/B tests"; Johari, Pekelis & Walsh 2022, "Always valid inference").
 * Unlike a group-sequential design it needs no registered looks: the p-value may be read after
 * every unit and the experiment stopped whenever it drops below alpha.
 *
 * Two-sample quantities, as in the paper's A/B setting:
 * - `n`: units per arm so far (the paper's pairs of observations);
 * - `effect`: treatment mean minus control mean (a difference in proportions for binary metrics);
 * - `variance`: the variance of one treatment-minus-control pair, V = σ²_A + σ²_B, so that
 *   Var(effect) = V/n. For binary metrics use the plug-in p̂_A(1 − p̂_A) + p̂_B(1 − p̂_B). With
 *   unequal arms, pass any (V, n) with V/n = σ²_A/n_A + σ²_B/n_B: Λ depends on them only through
 *   that squared standard error.
 *
 * With a N(0, τ²) mixture over the effect under the alternative,
 *
 *     Λ_n = √(V / (V + nτ²)) · exp( n²τ²·effect² / (2V(V + nτ²)) ),
 *
 * a nonnegative martingale under the null, so P(Λ_n ever ≥ 1/α) ≤ α (Ville's inequality) and
 * p_n = min(p_{n−1}, 1/Λ_n) is an always-valid p-value. With a plug-in variance the guarantee is
 * asymptotic, as in the paper.
 *
 * Choosing τ²: the paper matches the mixing distribution to the effects one expects to see (it
 * fits τ² to past experiments). Our default, `msprtTau2FromMde`, sets τ² = MDE². That is also
 * almost exactly the τ² that makes the test sharpest at the fixed-horizon sample size for that
 * MDE (see `msprtTau2ForHorizon`): at 80% power and α = 0.05 the two differ by about 5%.
 */

function checkPositive(name: string, value: number): void {
  if (!(value > 0 && Number.isFinite(value))) {
    throw new RangeError(`${name} must be a positive finite number; got ${value}`);
  }
}

/** ln Λ_n; kept separate so large evidence cannot overflow before it is inverted into a p-value. */
function logLikelihoodRatio(opts: { effect: number; variance: number; n: number; tau2: number }): number {
  const { effect, variance, n, tau2 } = opts;
  if (!Number.isFinite(effect)) throw new RangeError(`effect must be a finite number; got ${effect}`);
  checkPositive("variance", variance);
  checkPositive("n", n);
  checkPositive("tau2", tau2);
  // Written through the squared standard error s² = V/n, which is all Λ depends on.
  const s2 = variance / n;
  return 0.5 * Math.log(s2 / (s2 + tau2)) + (tau2 * effect * effect) / (2 * s2 * (s2 + tau2));
}

/**
 * Normal-mixture mSPRT likelihood ratio Λ_n for a difference in means with known or plug-in
 * variance (`variance` = σ²_A + σ²_B per pair, `n` = units per arm, `tau2` = mixing variance).
 * May be Infinity for overwhelming evidence.
 */
export function msprtLikelihoodRatio(opts: {
  effect: number;
  variance: number;
  n: number;
  tau2: number;
}): number {
  return Math.exp(logLikelihoodRatio(opts));
}

/**
 * The single-look always-valid p-value min(1, 1/Λ_n), for a stateless verdict from summaries.
 * Without the running minimum it is still valid at any stopping time, only less sharp than
 * MsprtMonitor's p-value, which remembers earlier evidence.
 */
export function msprtPValue(opts: { effect: number; variance: number; n: number; tau2: number }): number {
  return Math.min(1, Math.exp(-logLikelihoodRatio(opts)));
}

/** Default mixing variance: τ² = MDE² (MDE absolute, in the metric's units). */
export function msprtTau2FromMde(mde: number): number {
  if (!(Number.isFinite(mde) && mde !== 0))
    throw new RangeError(`mde must be a nonzero finite number; got ${mde}`);
  return mde * mde;
}

/**
 * The τ² at which the mSPRT rejects the smallest |z| at a planned `n` per arm. Writing
 * r = nτ²/V, Λ_n ≥ 1/α ⇔ z² ≥ (1 + 1/r)(2 ln(1/α) + ln(1 + r)); the minimum over r solves
 * r = 2 ln(1/α) + ln(1 + r) (r ≈ 8.2 at α = 0.05), so τ² = r·V/n.
 */
export function msprtTau2ForHorizon(opts: { alpha: number; variance: number; n: number }): number {
  const { alpha, variance, n } = opts;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1); got ${alpha}`);
  checkPositive("variance", variance);
  checkPositive("n", n);
  const c = -2 * Math.log(alpha);
  // A contraction (slope 1/(1 + r) < 1), so plain iteration converges.
  let r = c;
  for (let i = 0; i < 100; i++) {
    const next = c + Math.log1p(r);
    if (Math.abs(next - r) <= 1e-14 * next) break;
    r = next;
  }
  return (r * variance) / n;
}

/**
 * Running always-valid p-value p_n = min(p_{n−1}, 1/Λ_n), with p_0 = 1, rejecting once p_n ≤ α.
 * Updates may come after every unit or in batches; `n` (units per arm) must not decrease.
 */
export class MsprtMonitor {
  readonly #tau2: number;
  readonly #alpha: number;
  #pValue = 1;
  #lastN = 0;

  constructor(opts: { tau2: number; alpha: number }) {
    checkPositive("tau2", opts.tau2);
    if (!(opts.alpha > 0 && opts.alpha < 1))
      throw new RangeError(`alpha must be in (0, 1); got ${opts.alpha}`);
    this.#tau2 = opts.tau2;
    this.#alpha = opts.alpha;
  }

  /** The always-valid p-value so far (1 before any update). */
  get pValue(): number {
    return this.#pValue;
  }

  /** Fold in the cumulative summaries after `n` units per arm. */
  update(effect: number, variance: number, n: number): { pValue: number; reject: boolean } {
    if (n < this.#lastN) {
      throw new RangeError(
        `n per arm went down from ${this.#lastN} to ${n}; pass cumulative summaries in order`,
      );
    }
    const p = msprtPValue({ effect, variance, n, tau2: this.#tau2 });
    this.#lastN = n;
    this.#pValue = Math.min(this.#pValue, p);
    return { pValue: this.#pValue, reject: this.#pValue <= this.#alpha };
  }
}
