/**
 * A guardrail judged from unit-level data: non-inferiority of the treatment against the
 * guardrail's relative margin (treatment vs control) and its absolute ceiling or floor (the
 * treatment's own level). Missing data and too few samples are inconclusive, never a pass.
 */
import { type Direction, goodSign } from "./direction.ts";
import type { EffectEstimate } from "./effect.ts";

export type GuardrailStatus = "pass" | "breached" | "inconclusive" | "no data" | "live only";

export interface GuardrailEvidence {
  name: string;
  direction: Direction;
  /** Largest tolerated relative change in the bad direction, e.g. 0.10 = 10 % worse. */
  relativeMargin?: number;
  /**
   * An absolute limit on the treatment's own level (`max` for lower-is-better metrics, `min` for
   * higher-is-better), with the treatment's one-sided (1 − alpha) bounds and control's mean.
   */
  ceiling?: {
    limit: number;
    side: "max" | "min";
    treatmentLo: number;
    treatmentHi: number;
    controlMean: number;
  };
  /**
   * Estimate computed at twice the policy's alpha, so each end of its intervals is a one-sided
   * (1 − alpha) bound: the non-inferiority test at level alpha. Undefined when there is no data.
   */
  estimate: EffectEstimate | undefined;
  /** Units per arm needed before the guardrail can pass or fail. */
  minSamples: number;
  /** Units observed per arm (smaller arm). */
  samples: number;
  /** Measured only live (by the Prometheus rules), not present in unit-level data. */
  liveOnly?: boolean;
}

export interface GuardrailDecision {
  name: string;
  status: GuardrailStatus;
  /** The one-sided bound on the bad side (relative change, or the treatment's level), and its margin. */
  bound?: number;
  margin?: number;
  reason: string;
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
const num = (x: number) => x.toPrecision(4);

/** Relative margin: bounds of treatment/control − 1 expressed as harm (positive = worse). */
function relativeCheck(g: GuardrailEvidence, estimate: EffectEstimate, margin: number): GuardrailDecision {
  const [lo, hi] = estimate.relativeCi;
  const sign = goodSign(g.direction);
  const harmBad = sign === 1 ? -lo : hi;
  const harmGood = sign === 1 ? -hi : lo;
  if (harmGood > margin) {
    return {
      name: g.name,
      status: "breached",
      bound: harmGood,
      margin,
      reason: `${g.name}: relative change is worse than the ${pct(margin)} margin even at its most favourable bound (${pct(harmGood)})`,
    };
  }
  if (harmBad >= margin) {
    return {
      name: g.name,
      status: "inconclusive",
      bound: harmBad,
      margin,
      reason: `${g.name}: relative change may be as bad as ${pct(harmBad)}, not shown within the ${pct(margin)} margin`,
    };
  }
  return {
    name: g.name,
    status: "pass",
    bound: harmBad,
    margin,
    reason: `${g.name}: non-inferior (relative change bound ${pct(harmBad)} inside the ${pct(margin)} margin)`,
  };
}

/**
 * Ceiling (or floor) on the treatment's own level. A treatment whose level is surely beyond the
 * limit breaches it, unless control is beyond it too: then the limit cannot tell the variants
 * apart and the relative margin decides (the check is inconclusive, not a rollback).
 */
function ceilingCheck(g: GuardrailEvidence, c: NonNullable<GuardrailEvidence["ceiling"]>): GuardrailDecision {
  const max = c.side === "max";
  const worstBound = max ? c.treatmentHi : c.treatmentLo;
  const bestBound = max ? c.treatmentLo : c.treatmentHi;
  const beyond = (x: number) => (max ? x > c.limit : x < c.limit);
  const word = max ? "ceiling" : "floor";
  const base = { name: g.name, bound: worstBound, margin: c.limit };
  if (beyond(bestBound)) {
    if (beyond(c.controlMean)) {
      return {
        ...base,
        status: "inconclusive",
        reason: `${g.name}: control (${num(c.controlMean)}) is already beyond the ${num(c.limit)} ${word}, so the ${word} cannot judge the treatment`,
      };
    }
    return {
      ...base,
      bound: bestBound,
      status: "breached",
      reason: `${g.name}: treatment is beyond the ${num(c.limit)} ${word} even at its most favourable bound (${num(bestBound)})`,
    };
  }
  if (beyond(worstBound)) {
    return {
      ...base,
      status: "inconclusive",
      reason: `${g.name}: treatment may reach ${num(worstBound)}, not shown within the ${num(c.limit)} ${word}`,
    };
  }
  return {
    ...base,
    status: "pass",
    reason: `${g.name}: treatment within the ${num(c.limit)} ${word} (bound ${num(worstBound)})`,
  };
}

const rank: Record<GuardrailStatus, number> = {
  breached: 3,
  inconclusive: 2,
  "no data": 1,
  "live only": 1,
  pass: 0,
};

export function judgeGuardrail(g: GuardrailEvidence): GuardrailDecision {
  if (g.liveOnly) {
    return {
      name: g.name,
      status: "live only",
      reason: `${g.name} is not in the unit-level data; it is enforced live by the Prometheus guardrail rules`,
    };
  }
  if (!g.estimate) return { name: g.name, status: "no data", reason: `${g.name}: no observations` };
  if (g.samples < g.minSamples) {
    return {
      name: g.name,
      status: "inconclusive",
      reason: `${g.name}: ${g.samples} units per arm, below the minimum of ${g.minSamples}`,
    };
  }
  const checks: GuardrailDecision[] = [];
  if (g.relativeMargin !== undefined) checks.push(relativeCheck(g, g.estimate, g.relativeMargin));
  if (g.ceiling !== undefined) checks.push(ceilingCheck(g, g.ceiling));
  if (checks.length === 0)
    throw new RangeError(`guardrail ${g.name} has neither a relative margin nor a ceiling`);
  // The guardrail is as bad as its worst check, like an analysis run is as bad as its worst metric.
  return checks.reduce((worst, c) => (rank[c.status] > rank[worst.status] ? c : worst));
}
