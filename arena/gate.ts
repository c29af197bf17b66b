/**
 * The gate's decision from the evaluations of one arena run, by the spec's `gate` policy:
 *
 * - **enough cases**: at least `gate.minCases` golden cases.
 * - **win rate**: per case, the pairwise verdict scores 1 (treatment), 0 (control) or ½ (tie, which
 *   includes position-inconsistent pairs); the one-sided (1 − α) Wilson lower bound of
 *   (wins + ties/2) / n must exceed `gate.minWinRateLowerBound`. Wilson, not the t interval of the
 *   scores: near 0 and 1 the t interval is too narrow (it collapses to a point when every case is
 *   won), and a simulation at a true win rate of ½ passed it about 4 % of the time instead of 2.5 %.
 *   Counting a tie as half a success overstates the variance, so the bound errs on the safe side.
 *   A sign test on the decided cases is reported beside it.
 * - **no axis regression**: for every rubric axis, the treatment − control mean score on the same
 *   cases is a non-inferiority test, as `llm-ab analyze` judges guardrails: the lower end of the
 *   (1 − 2α) interval (one-sided α) must stay above −`gate.maxAxisRegression`. Too few cases to rule
 *   a regression out is a failure that says so, never a pass.
 * - **critical cases**: no Level-1 check of the treatment may fail on a case tagged `critical`.
 * - **judge agreement**: Cohen's κ between the pairwise judge's verdicts and the human audit labels
 *   must reach `gate.minJudgeAgreement`, on at least `gate.minAuditLabels` audited cases; with
 *   fewer labels, or when judge and people used one single category (κ undefined), the judge's
 *   agreement is unknown and the check fails.
 *
 * Reported, not gated: the position-inconsistency rate (how often the judge's verdict flipped with
 * the order), verbosity bias (Spearman's ρ between the per-case score and the answer-length
 * difference), Level-2 similarity to the references.
 */
import type { Gate } from "../spec/schema.ts";
import { type Agreement, cohenKappa } from "../stats/agreement.ts";
import { type PairedDiff, pairedDifference } from "../stats/paired.ts";
import { wilsonInterval } from "../stats/proportions.ts";
import { type RankCorrelation, spearman } from "../stats/rank-correlation.ts";
import { type PairOutcome, type SignTest, signTest, type WinRate, winRate } from "../stats/win-rate.ts";
import type { GateCheck } from "./gate-file.ts";
import type {
  Arm,
  AuditLabel,
  Generation,
  GoldenCase,
  Level1Result,
  PairwiseJudgement,
  RubricScore,
  SimilarityResult,
} from "./types.ts";

/** Everything one arena run produced, for the gate. */
export interface GateInput {
  readonly gate: Gate;
  readonly alpha: number;
  readonly cases: readonly GoldenCase[];
  readonly axes: readonly string[];
  readonly generations: readonly Generation[];
  readonly level1: readonly Level1Result[];
  readonly similarity: readonly SimilarityResult[];
  readonly rubricScores: readonly RubricScore[];
  readonly pairwise: readonly PairwiseJudgement[];
  /** Human labels; absent when the run had no audit file. */
  readonly audit?: readonly AuditLabel[];
}

/** One axis: treatment − control on the cases both arms were scored on. */
export interface AxisResult {
  readonly axis: string;
  readonly control: number;
  readonly treatment: number;
  readonly difference: PairedDiff;
  /** Lower end of the one-sided (1 − α) bound on the difference. */
  readonly lowerBound: number;
}

export interface GateResults {
  readonly cases: number;
  readonly winRate: WinRate;
  /** One-sided (1 − α) Wilson lower bound of the win rate (ties ½): what the gate checks. */
  readonly winRateLowerBound: number;
  readonly signTest: SignTest;
  readonly axes: readonly AxisResult[];
  readonly positionInconsistency: {
    readonly pairs: number;
    readonly inconsistent: number;
    readonly rate: number;
  };
  /** Spearman's ρ of the per-case score with (treatment − control) answer length; absent below 3 cases or constant data. */
  readonly verbosity?: RankCorrelation;
  readonly level1: Readonly<
    Record<Arm, { readonly failed: number; readonly criticalFailed: readonly string[] }>
  >;
  readonly similarity: Readonly<Record<Arm, number | null>>;
  /** Answers cut at max_tokens (finish_reason "length") per arm: a cut answer loses for its length. */
  readonly truncated: Readonly<Record<Arm, number>>;
  /** Absent without audit labels. */
  readonly agreement?: Agreement;
}

export interface GateDecision {
  readonly passed: boolean;
  readonly checks: readonly GateCheck[];
  readonly results: GateResults;
}

const fixed = (value: number, digits = 3) => value.toFixed(digits);

function outcomeOf(verdict: Arm | "tie"): PairOutcome {
  return verdict === "treatment" ? "win" : verdict === "control" ? "loss" : "tie";
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

function axisResults(input: GateInput): AxisResult[] {
  const byCase = new Map<string, Partial<Record<Arm, RubricScore>>>();
  for (const score of input.rubricScores) {
    byCase.set(score.caseId, { ...byCase.get(score.caseId), [score.arm]: score });
  }
  const paired = [...byCase.values()].filter((s) => s.control !== undefined && s.treatment !== undefined);
  return input.axes.map((axis) => {
    const treatment = paired.map((s) => s.treatment?.scores[axis] ?? Number.NaN);
    const control = paired.map((s) => s.control?.scores[axis] ?? Number.NaN);
    // One-sided alpha: the two-sided interval at 2α, as analyze judges guardrails.
    let difference: PairedDiff;
    try {
      difference = pairedDifference(treatment, control, 2 * input.alpha);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      // Fewer than two scored pairs: no interval, so no regression can be ruled out.
      const nan = Number.NaN;
      difference = {
        n: treatment.length,
        meanDiff: mean(treatment.map((t, i) => t - (control[i] ?? nan))) ?? nan,
        se: nan,
        df: nan,
        ci: [nan, nan],
        pValue: nan,
      };
    }
    return {
      axis,
      control: mean(control) ?? Number.NaN,
      treatment: mean(treatment) ?? Number.NaN,
      difference,
      lowerBound: difference.ci[0],
    };
  });
}

function verbosityOf(input: GateInput, outcomes: Map<string, PairOutcome>): RankCorrelation | undefined {
  const length = new Map<string, Partial<Record<Arm, number>>>();
  for (const g of input.generations)
    length.set(g.caseId, { ...length.get(g.caseId), [g.arm]: g.text.length });
  const score: number[] = [];
  const diff: number[] = [];
  for (const [caseId, outcome] of outcomes) {
    const l = length.get(caseId);
    if (l?.control === undefined || l.treatment === undefined) continue;
    score.push(outcome === "win" ? 1 : outcome === "tie" ? 0.5 : 0);
    diff.push(l.treatment - l.control);
  }
  try {
    const rho = spearman(score, diff);
    return Number.isFinite(rho.rho) ? rho : undefined;
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/** The gate's checks and statistics; see the module comment. */
export function decideGate(input: GateInput): GateDecision {
  const { gate, alpha } = input;
  const outcomes = new Map(input.pairwise.map((p) => [p.caseId, outcomeOf(p.verdict)]));
  const rate = winRate([...outcomes.values()], alpha);
  // One-sided α, as the axes: the two-sided interval at 2α.
  const winBound = wilsonInterval(rate.wins + rate.ties / 2, rate.n, 2 * alpha)[0];
  const sign = signTest(rate.wins, rate.losses);
  const axes = axisResults(input);
  const critical = new Set(input.cases.filter((c) => c.tags.includes("critical")).map((c) => c.id));
  const level1 = (arm: Arm) => {
    const failed = input.level1.filter((r) => r.arm === arm && !r.passed);
    return {
      failed: failed.length,
      criticalFailed: [
        ...new Set(failed.filter((r) => critical.has(r.caseId)).map((r) => `${r.caseId}: ${r.check}`)),
      ],
    };
  };
  const similarity = (arm: Arm) => mean(input.similarity.filter((s) => s.arm === arm).map((s) => s.cosine));
  const inconsistent = input.pairwise.filter((p) => !p.consistent).length;
  const verdictOf = new Map(input.pairwise.map((p) => [p.caseId, p.verdict]));
  const audited = (input.audit ?? []).filter((label) => verdictOf.has(label.caseId));
  // κ is undefined when judge and people used a single category (chance agreement is 1).
  const oneCategory =
    new Set([...audited.map((l) => l.preferred), ...audited.map((l) => verdictOf.get(l.caseId))]).size < 2;
  const agreement =
    input.audit === undefined || audited.length < gate.minAuditLabels || oneCategory
      ? undefined
      : cohenKappa(
          audited.map((label) => verdictOf.get(label.caseId) ?? "tie"),
          audited.map((label) => label.preferred),
          ["treatment", "control", "tie"],
          alpha,
        );
  const results: GateResults = {
    cases: input.cases.length,
    winRate: rate,
    winRateLowerBound: winBound,
    signTest: sign,
    axes,
    positionInconsistency: {
      pairs: input.pairwise.length,
      inconsistent,
      rate: input.pairwise.length === 0 ? 0 : inconsistent / input.pairwise.length,
    },
    ...(() => {
      const verbosity = verbosityOf(input, outcomes);
      return verbosity === undefined ? {} : { verbosity };
    })(),
    level1: { control: level1("control"), treatment: level1("treatment") },
    similarity: { control: similarity("control"), treatment: similarity("treatment") },
    truncated: {
      control: input.generations.filter((g) => g.arm === "control" && g.finishReason === "length").length,
      treatment: input.generations.filter((g) => g.arm === "treatment" && g.finishReason === "length").length,
    },
    ...(agreement === undefined ? {} : { agreement }),
  };

  const checks: GateCheck[] = [
    {
      name: "enough cases",
      passed: input.cases.length >= gate.minCases,
      value: `${input.cases.length}`,
      threshold: `≥ ${gate.minCases}`,
      detail:
        input.cases.length >= gate.minCases
          ? `${input.cases.length} golden cases`
          : `${input.cases.length} golden cases: too few for the intervals to mean much; add cases (gate.minCases is ${gate.minCases})`,
    },
    {
      name: "win rate",
      // Strictly above: a bound at the threshold is no evidence the treatment is better.
      passed: rate.n > 0 && winBound > gate.minWinRateLowerBound,
      value: `lower bound ${fixed(winBound)}`,
      threshold: `> ${gate.minWinRateLowerBound}`,
      detail: `treatment wins ${rate.wins}, loses ${rate.losses}, ties ${rate.ties} of ${rate.n} cases: win rate ${fixed(rate.rate)} (ties as ½), one-sided ${Math.round((1 - alpha) * 100)} % Wilson lower bound ${fixed(winBound)}; sign test p ${sign.pValue.toPrecision(3)}`,
    },
    ...axes.map((a) => ({
      name: `no ${a.axis} regression`,
      passed: Number.isFinite(a.lowerBound) && a.lowerBound >= -gate.maxAxisRegression,
      value: `lower bound ${a.lowerBound >= 0 ? "+" : ""}${fixed(a.lowerBound)}`,
      threshold: `≥ −${gate.maxAxisRegression}`,
      detail: `${a.axis}: treatment ${fixed(a.treatment, 2)} vs control ${fixed(a.control, 2)}, difference ${fixed(a.difference.meanDiff)} on ${a.difference.n} cases, one-sided ${Math.round((1 - alpha) * 100)} % bound ${fixed(a.lowerBound)}${a.lowerBound < -gate.maxAxisRegression && a.difference.meanDiff >= -gate.maxAxisRegression ? ": too few cases to rule out a regression beyond the margin" : ""}`,
    })),
    {
      name: "critical cases pass Level 1",
      passed: results.level1.treatment.criticalFailed.length === 0,
      value: `${results.level1.treatment.criticalFailed.length} failed`,
      threshold: "0",
      detail:
        results.level1.treatment.criticalFailed.length === 0
          ? `${critical.size} critical cases, every Level-1 check passed`
          : `treatment failed: ${results.level1.treatment.criticalFailed.join("; ")}`,
    },
    agreement === undefined
      ? {
          name: "judge agrees with people",
          passed: false,
          value: "unknown",
          threshold: `κ ≥ ${gate.minJudgeAgreement}`,
          detail:
            input.audit === undefined
              ? "no audit labels: the judge's agreement with people is unknown; give the arena config an `audit` file"
              : audited.length < gate.minAuditLabels
                ? `${audited.length} audit labels name judged cases, fewer than gate.minAuditLabels (${gate.minAuditLabels}): agreement unknown`
                : "judge and people used one single category on the audited cases: κ is undefined, agreement unknown",
        }
      : {
          name: "judge agrees with people",
          passed: agreement.kappa >= gate.minJudgeAgreement,
          value: `κ ${fixed(agreement.kappa)}`,
          threshold: `≥ ${gate.minJudgeAgreement}`,
          detail: `Cohen's κ ${fixed(agreement.kappa)} [${fixed(agreement.ci[0])}, ${fixed(agreement.ci[1])}], raw agreement ${fixed(agreement.raw)} on ${agreement.n} audited cases`,
        },
  ];
  return { passed: checks.every((check) => check.passed), checks, results };
}
