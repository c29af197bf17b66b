/**
 * The treatment effect estimated within strata and combined with fixed weights: the estimator for
 * a ramped experiment, whose allocation phases (10 % treatment, then 50 %) must not be pooled.
 *
 * Pooling phases mixes units that arrived under different splits; when the outcome drifts between
 * phases (weekday mix, novelty, a seasonal rate) the pooled difference is biased toward whichever
 * arm was over-represented in the better phase: Simpson's paradox by design. Estimating the
 * difference inside each phase and weighting the phases by their share of all units removes that
 * bias: Δ = Σ w_k (T̄_k − C̄_k), Var(Δ) = Σ w_k² (s²_T,k/n_T,k + s²_C,k/n_C,k), a z-test on Δ.
 * (The post-stratified difference of Miratrix, Sekhon & Yu 2013 with stratum-size weights.)
 */
import {
  confidenceInterval,
  type EffectEstimate,
  pValue,
  relativeLiftInterval,
  resolveTestOptions,
  type TestOptions,
} from "./effect.ts";
import type { MeanSummary } from "./welch.ts";

export interface Stratum {
  label: string;
  control: MeanSummary;
  treatment: MeanSummary;
}

export interface StratifiedEstimate extends EffectEstimate {
  strata: { label: string; weight: number; effect: number }[];
}

/**
 * Stratified difference in means with stratum weights proportional to units in the stratum.
 * Strata missing an arm (or with fewer than 2 units in one) carry no within-stratum contrast and
 * are left out, with the weights renormalised over the rest; none left throws a RangeError.
 */
export function stratifiedTest(strata: readonly Stratum[], opts?: TestOptions): StratifiedEstimate {
  const { alpha, alternative } = resolveTestOptions(opts);
  const usable = strata.filter((s) => s.control.n >= 2 && s.treatment.n >= 2);
  if (usable.length === 0) {
    throw new RangeError(
      `stratifiedTest: no stratum has at least 2 units in both arms (strata: ${strata.map((s) => s.label).join(", ") || "none"})`,
    );
  }
  const total = usable.reduce((sum, s) => sum + s.control.n + s.treatment.n, 0);
  let control = 0;
  let treatment = 0;
  let varControl = 0;
  let varTreatment = 0;
  const parts = usable.map((s) => {
    const w = (s.control.n + s.treatment.n) / total;
    control += w * s.control.mean;
    treatment += w * s.treatment.mean;
    varControl += w ** 2 * (s.control.variance / s.control.n);
    varTreatment += w ** 2 * (s.treatment.variance / s.treatment.n);
    return { label: s.label, weight: w, effect: s.treatment.mean - s.control.mean };
  });
  const effect = treatment - control;
  const se = Math.sqrt(varControl + varTreatment);
  if (se === 0 && effect !== 0) {
    throw new RangeError(
      "stratifiedTest: zero variance in every stratum but different means; nothing to test against",
    );
  }
  const statistic = se === 0 ? 0 : effect / se;
  const ref = { alpha, alternative };
  return {
    control,
    treatment,
    effect,
    se,
    statistic,
    pValue: pValue(statistic, ref),
    ci: confidenceInterval(effect, se, ref),
    relativeLift: control === 0 ? Number.NaN : effect / control,
    relativeCi: relativeLiftInterval({ control, treatment, varControl, varTreatment }, ref),
    strata: parts,
  };
}
