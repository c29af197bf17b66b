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
import { type Direction, goodSign } from "./direction.ts";
import type { EffectEstimate } from "./effect.ts";
import type { SequentialDesign } from "./group-sequential.ts";
import { type GuardrailDecision, type GuardrailEvidence, judgeGuardrail } from "./guardrail-test.ts";

export type Verdict = "ship" | "hold" | "rollback" | "keep running" | "inconclusive";

export interface MetricEvidence {
  name: string;
  direction: Direction;
  /** Two-sided estimate at the policy's alpha; undefined when the data holds no value of the metric. */
  estimate: EffectEstimate | undefined;
}

export type Progress =
  | { kind: "fixed" /** observed units ÷ planned units, of the smaller arm */; fraction: number }
  | {
      kind: "sequential";
      design: SequentialDesign;
      /** 0-based index of the registered look this analysis is, or null before the first look. */
      lookIndex: number | null;
      /**
       * The |z| boundary at the information actually observed (Lan–DeMets: spending evaluated at
       * the observed fraction); defaults to the design's boundary at the registered look.
       */
      boundary?: number;
    };

export interface DecisionInput {
  alpha: number;
  correction: Correction;
  srm: { pValue: number; alarm: boolean; reason?: string };
  /**
   * Per primary metric, whether the share of units with an outcome differs between arms beyond
   * chance (a metric-level SRM): outcomes missing more in one arm bias the comparison.
   */
  missingness?: { metric: string; pValue: number; alarm: boolean }[];
  progress: Progress;
  primary: MetricEvidence[];
  guardrails: GuardrailEvidence[];
  secondary: MetricEvidence[];
}

/** `early`: a primary metric read before the design allows a decision (no registered look yet). */
export type MetricStatus = "win" | "loss" | "flat" | "no data" | "early";

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

export interface Decision {
  verdict: Verdict;
  reasons: string[];
  metrics: MetricDecision[];
  guardrails: GuardrailDecision[];
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

export type { Direction, GuardrailDecision, GuardrailEvidence };

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
  const boundary = progress.boundary ?? design.boundaries[lookIndex];
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

export function decide(input: DecisionInput): Decision {
  const state = lookState(input.progress, input.alpha);
  const primary = input.primary.map((m) => {
    const judged = judgePrimary(m, input.alpha, state.boundary);
    // Before a registered look a significant-looking primary is peeking, not a win; harm still counts.
    return !state.decidable && judged.status === "win" ? { ...judged, status: "early" as const } : judged;
  });
  const secondary = judgeSecondary(input.secondary, input.alpha, input.correction);
  const guardrails = input.guardrails.map(judgeGuardrail);
  const metrics = [...primary, ...secondary];
  const out = (verdict: Verdict, reasons: string[]): Decision => ({ verdict, reasons, metrics, guardrails });

  if (input.srm.alarm) {
    return out("hold", [
      `sample-ratio mismatch (${input.srm.reason ?? `SRM p = ${input.srm.pValue.toExponential(2)}`}): the split is not what was configured, so every effect estimate is suspect; find the cause (assignment, logging, bots, redirects) before reading results`,
    ]);
  }
  const missing = (input.missingness ?? []).filter((m) => m.alarm);
  if (missing.length > 0) {
    return out(
      "hold",
      missing.map(
        (m) =>
          `outcomes of ${m.metric} are missing at different rates in the two arms (p = ${m.pValue.toExponential(2)}): the units that report an outcome are no longer comparable; find why before reading ${m.metric}`,
      ),
    );
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

  const absent = primary.filter((m) => m.status === "no data");
  if (absent.length > 0) {
    return out("inconclusive", [
      ...absent.map((m) => `primary metric ${m.name} has no observations in the data`),
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
      .map((m) =>
        m.boundary === undefined
          ? `primary metric ${m.name} shows no significant effect (p = ${m.pValue?.toPrecision(3)})`
          : `primary metric ${m.name} does not cross its |z| ≥ ${m.boundary.toFixed(4)} boundary (nominal p = ${m.pValue?.toPrecision(3)})`,
      ),
    ...notes,
  ]);
}
