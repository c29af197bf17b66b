/**
 * The decision policy: turns per-metric evidence into one verdict with its reasons.
 *
 * Order matters and is the policy: an SRM alarm first (nothing else can be trusted), then harm
 * (a guardrail breached or a primary metric significantly worse), then whether the design allows
 * a decision yet (fixed horizon reached, or a registered sequential look), then the primary
 * metrics. Several primary metrics are combined as an intersection–union test: the treatment
 * ships only if every primary metric wins, which needs no multiplicity correction (Berger 1982).
 * Secondary metrics are corrected with the chosen method and reported; they never gate the
 * verdict, but a significantly harmful secondary metric is named in the reasons.
 */
import { adjustPValues, type Correction } from "./corrections.ts";
import type { EffectEstimate } from "./effect.ts";
import type { SequentialDesign } from "./group-sequential.ts";

export type Verdict = "ship" | "hold" | "rollback" | "keep running" | "inconclusive";
/** Which way of the metric is good for the treatment. */
export type Direction = "increase" | "decrease";

export interface MetricEvidence {
  name: string;
  direction: Direction;
  /** Two-sided estimate at the policy's alpha; undefined when the data holds no value of the metric. */
  estimate: EffectEstimate | undefined;
}

export interface GuardrailEvidence {
  name: string;
  direction: Direction;
  /** Largest tolerated relative change in the bad direction, e.g. 0.10 = 10 % worse. */
  relativeMargin?: number;
  /** Largest tolerated absolute change in the bad direction, in the metric's unit. */
  absoluteMargin?: number;
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

export type Progress =
  | { kind: "fixed" /** observed units ÷ planned units, of the smaller arm */; fraction: number }
  | {
      kind: "sequential";
      design: SequentialDesign;
      /** 0-based index of the registered look this analysis is, or null before the first look. */
      lookIndex: number | null;
    };

export interface DecisionInput {
  alpha: number;
  correction: Correction;
  srm: { pValue: number; alarm: boolean };
  progress: Progress;
  primary: MetricEvidence[];
  guardrails: GuardrailEvidence[];
  secondary: MetricEvidence[];
}

export type MetricStatus = "win" | "loss" | "flat" | "no data";
export type GuardrailStatus = "pass" | "breached" | "inconclusive" | "no data" | "live only";

export interface MetricDecision {
  name: string;
  role: "primary" | "secondary";
  status: MetricStatus;
  pValue: number | null;
  /** Secondary: corrected across secondary metrics; primary: the p-value itself (IU test). */
  adjustedPValue: number | null;
  /** Primary under a sequential design: the |z| boundary it was held to. */
  boundary?: number;
}

export interface GuardrailDecision {
  name: string;
  status: GuardrailStatus;
  /** The one-sided bound on the bad side of the relative (or absolute) change, and its margin. */
  bound?: number;
  margin?: number;
  reason: string;
}

export interface Decision {
  verdict: Verdict;
  reasons: string[];
  metrics: MetricDecision[];
  guardrails: GuardrailDecision[];
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

/** Favourable sign: +1 when the metric should go up, −1 when it should go down. */
function goodSign(direction: Direction): 1 | -1 {
  return direction === "increase" ? 1 : -1;
}

function statusOf(estimate: EffectEstimate, direction: Direction, significant: boolean): MetricStatus {
  if (!significant) return "flat";
  return Math.sign(estimate.effect) === goodSign(direction) ? "win" : "loss";
}

/** Where the design stands: may a verdict be read now, and against which threshold. */
function lookState(progress: Progress, alpha: number) {
  if (progress.kind === "fixed") {
    return { decidable: progress.fraction >= 1, final: progress.fraction >= 1, boundary: undefined };
  }
  const { design, lookIndex } = progress;
  if (lookIndex === null) return { decidable: false, final: false, boundary: undefined };
  const boundary = design.boundaries[lookIndex];
  if (boundary === undefined) {
    throw new RangeError(
      `look ${lookIndex + 1} is not registered (registered looks: ${design.looks.join(", ")})`,
    );
  }
  if (Math.abs(design.alpha - alpha) > 1e-12) {
    throw new RangeError(`sequential design alpha ${design.alpha} differs from the policy alpha ${alpha}`);
  }
  return { decidable: true, final: lookIndex === design.looks.length - 1, boundary };
}

function judgePrimary(m: MetricEvidence, alpha: number, boundary: number | undefined): MetricDecision {
  if (!m.estimate) {
    return { name: m.name, role: "primary", status: "no data", pValue: null, adjustedPValue: null };
  }
  const significant =
    boundary === undefined ? m.estimate.pValue < alpha : Math.abs(m.estimate.statistic) >= boundary;
  return {
    name: m.name,
    role: "primary",
    status: statusOf(m.estimate, m.direction, significant),
    pValue: m.estimate.pValue,
    adjustedPValue: m.estimate.pValue,
    ...(boundary === undefined ? {} : { boundary }),
  };
}

function judgeSecondary(metrics: MetricEvidence[], alpha: number, correction: Correction): MetricDecision[] {
  const withData = metrics.filter((m) => m.estimate !== undefined);
  const adjusted = adjustPValues(
    withData.map((m) => m.estimate!.pValue),
    correction,
  );
  const byName = new Map(withData.map((m, i) => [m.name, adjusted[i]!]));
  return metrics.map((m) => {
    const adj = byName.get(m.name);
    if (!m.estimate || adj === undefined) {
      return { name: m.name, role: "secondary", status: "no data", pValue: null, adjustedPValue: null };
    }
    return {
      name: m.name,
      role: "secondary",
      status: statusOf(m.estimate, m.direction, adj < alpha),
      pValue: m.estimate.pValue,
      adjustedPValue: adj,
    };
  });
}

/**
 * Non-inferiority against each margin: the one-sided (1 − alpha) bound on the bad side must stay
 * inside the margin to pass; the bound on the good side beyond the margin means a breach
 * (significantly worse than tolerated); anything between is inconclusive. Missing data and too
 * few samples are inconclusive, never a pass.
 */
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
  const checks: { scale: string; lo: number; hi: number; margin: number; fmt: (x: number) => string }[] = [];
  if (g.relativeMargin !== undefined) {
    const [lo, hi] = g.estimate.relativeCi;
    checks.push({ scale: "relative change", lo, hi, margin: g.relativeMargin, fmt: pct });
  }
  if (g.absoluteMargin !== undefined) {
    const [lo, hi] = g.estimate.ci;
    checks.push({ scale: "change", lo, hi, margin: g.absoluteMargin, fmt: (x) => x.toPrecision(4) });
  }
  if (checks.length === 0) {
    throw new RangeError(`guardrail ${g.name} has neither relativeMargin nor absoluteMargin`);
  }
  const sign = goodSign(g.direction);
  let worst: GuardrailDecision | undefined;
  for (const c of checks) {
    // Express both bounds as "harm" (positive = worse for the treatment) so one rule serves both directions.
    const harmBad = sign === 1 ? -c.lo : c.hi; // bound on the bad side
    const harmGood = sign === 1 ? -c.hi : c.lo; // bound on the good side
    const base = { name: g.name, bound: harmBad, margin: c.margin };
    if (harmGood > c.margin) {
      return {
        ...base,
        bound: harmGood,
        status: "breached",
        reason: `${g.name}: ${c.scale} is worse than the ${c.fmt(c.margin)} margin even at its most favourable bound (${c.fmt(harmGood)})`,
      };
    }
    if (harmBad >= c.margin && !worst) {
      worst = {
        ...base,
        status: "inconclusive",
        reason: `${g.name}: ${c.scale} may be as bad as ${c.fmt(harmBad)}, not shown within the ${c.fmt(c.margin)} margin`,
      };
    }
  }
  if (worst) return worst;
  const first = checks[0]!;
  const bound = sign === 1 ? -first.lo : first.hi;
  return {
    name: g.name,
    status: "pass",
    bound,
    margin: first.margin,
    reason: `${g.name}: non-inferior (${first.scale} bound ${first.fmt(bound)} inside the ${first.fmt(first.margin)} margin)`,
  };
}

export function decide(input: DecisionInput): Decision {
  const state = lookState(input.progress, input.alpha);
  const primary = input.primary.map((m) => judgePrimary(m, input.alpha, state.boundary));
  const secondary = judgeSecondary(input.secondary, input.alpha, input.correction);
  const guardrails = input.guardrails.map(judgeGuardrail);
  const metrics = [...primary, ...secondary];
  const out = (verdict: Verdict, reasons: string[]): Decision => ({ verdict, reasons, metrics, guardrails });

  if (input.srm.alarm) {
    return out("hold", [
      `sample-ratio mismatch (SRM p = ${input.srm.pValue.toExponential(2)}): the split is not what was configured, so every effect estimate is suspect; find the cause (assignment, logging, bots, redirects) before reading results`,
    ]);
  }
  const breached = guardrails.filter((g) => g.status === "breached");
  const lost = primary.filter((m) => m.status === "loss");
  if (breached.length > 0 || (lost.length > 0 && state.decidable)) {
    return out("rollback", [
      ...breached.map((g) => `guardrail breached: ${g.reason}`),
      ...lost.map((m) => `primary metric ${m.name} is significantly worse (p = ${m.pValue?.toPrecision(3)})`),
    ]);
  }

  const notes = [
    ...guardrails.filter((g) => g.status === "live only").map((g) => g.reason),
    ...secondary
      .filter((m) => m.status === "loss")
      .map(
        (m) =>
          `secondary metric ${m.name} is significantly worse (adjusted p = ${m.adjustedPValue?.toPrecision(3)})`,
      ),
  ];
  if (!state.decidable) {
    const why =
      input.progress.kind === "fixed"
        ? `fixed-horizon design at ${pct(input.progress.fraction)} of its planned sample: reading it early inflates false positives`
        : "no registered sequential look has been reached yet";
    return out("keep running", [why, ...notes]);
  }

  const missing = primary.filter((m) => m.status === "no data");
  if (missing.length > 0) {
    return out("inconclusive", [
      ...missing.map((m) => `primary metric ${m.name} has no observations in the data`),
      ...notes,
    ]);
  }
  const allWin = primary.every((m) => m.status === "win");
  const unsure = guardrails.filter((g) => g.status === "inconclusive" || g.status === "no data");
  if (allWin && unsure.length === 0) {
    return out("ship", [
      ...primary.map((m) => `primary metric ${m.name} wins (p = ${m.pValue?.toPrecision(3)})`),
      ...guardrails.filter((g) => g.status === "pass").map((g) => g.reason),
      ...notes,
    ]);
  }
  if (allWin) {
    return out(state.final ? "hold" : "keep running", [
      "every primary metric wins, but not every guardrail is shown non-inferior",
      ...unsure.map((g) => g.reason),
      ...notes,
    ]);
  }
  if (!state.final) {
    return out("keep running", [
      `look ${input.progress.kind === "sequential" && input.progress.lookIndex !== null ? input.progress.lookIndex + 1 : "?"}: no primary metric crossed its boundary`,
      ...notes,
    ]);
  }
  return out("inconclusive", [
    ...primary
      .filter((m) => m.status !== "win")
      .map((m) => `primary metric ${m.name} shows no significant effect (p = ${m.pValue?.toPrecision(3)})`),
    ...notes,
  ]);
}
