/**
 * `llm-ab analyze` for a bandit (rollout.mode bandit): arm means without the bias adaptive
 * allocation causes, each treatment against control, and a check that the router drew units with
 * the probabilities it recorded.
 *
 * - **Arm means** by inverse-propensity weighting (stats/ipw.ts, Hajek): a unit counts 1/π, π
 *   being the probability its arm had when it was drawn. Plain means of adaptively allocated data
 *   are biased (an arm starved after an unlucky start keeps its unlucky units undiluted), so the
 *   plain means are shown beside the weighted ones, and the report says which is which.
 * - **Comparisons**: each treatment minus control, with a normal interval and a z test at
 *   alpha/k for k treatments (Bonferroni, as `plan` sizes A/B/n). The two arms' Hajek estimates
 *   have zero covariance (disjoint units), so the difference's variance is the sum of theirs.
 *   The floor bounds every weight by 1/floor, which keeps the normal approximation usable; without
 *   a floor adaptive data can break it, so these intervals are approximate, and say so.
 * - **Units**: those first exposed while the experiment was active. A unit first assigned while
 *   paused or rolled back was served control whatever its arm; leaving those out depends on when,
 *   not where, a unit was assigned, so it costs units but not validity (they are counted).
 * - **Missing rewards**: a unit without a reward value is left out of that metric, so each arm's
 *   reporting rate is compared (Pearson χ² over arms × reported/missing, at the SRM threshold): an
 *   arm that loses users before they report would bias the weighted means, and holds the verdict.
 * - **Guardrails** (latency, errors, cost) are judged live by the Prometheus rules, not here: the
 *   report says so rather than counting them as passed.
 * - **Propensity check** (the bandit's sample-ratio check): each unit's arm is a draw from its
 *   recorded probabilities, so arm k's expected count is Σ π_k over units; Pearson's χ² on k − 1
 *   degrees of freedom against those expectations. A failure means the logged propensities are
 *   not the ones units were drawn with, and then no weighted estimate can be trusted.
 */
import { isRouterMeasuredName } from "../spec/router-measured.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import { armContingency } from "../stats/contingency.ts";
import { chisqSf, normQuantile, twoSidedNormalP } from "../stats/distributions.ts";
import { ipwArmMeans } from "../stats/ipw.ts";
import { type BanditUnit, readBanditLog } from "./bandit-log.ts";
import { DataError } from "./locate-errors.ts";
import { controlVariant, treatmentVariants } from "./variants.ts";

export interface BanditArmReport {
  variant: string;
  /** Units with a value of the metric. */
  n: number;
  /** The plain mean: biased under adaptive allocation, shown for contrast. */
  naiveMean: number | null;
  /** Hajek inverse-propensity-weighted mean, its standard error and (1 − alpha) interval. */
  mean: number | null;
  se: number | null;
  ci: [number, number] | null;
}

export interface BanditComparison {
  treatment: string;
  effect: number | null;
  ci: [number, number] | null;
  pValue: number | null;
  /** p × k, capped at 1: compare with alpha directly. */
  adjustedPValue: number | null;
  /** Significant at alpha/k in the metric's good direction, the bad one, or neither. */
  status: "better" | "worse" | "inconclusive";
}

export interface BanditMetricReport {
  name: string;
  kind: "binary" | "continuous";
  direction: "increase" | "decrease";
  /** Whether the bandit allocated on this metric. */
  reward: boolean;
  arms: BanditArmReport[];
  comparisons: BanditComparison[];
}

export interface BanditAnalysisReport {
  experiment: string;
  mode: "bandit";
  control: string;
  treatments: string[];
  verdict: "ship" | "hold";
  reasons: string[];
  /** Units exposed, and the range of allocation versions they were drawn from. */
  units: number;
  allocationVersions: [number, number];
  estimator: string;
  correction: { comparisons: number; alphaPerComparison: number };
  propensityCheck: {
    chi2: number;
    df: number;
    pValue: number;
    alarm: boolean;
    observed: Record<string, number>;
    expected: Record<string, number>;
  };
  /** Units left out because they were first exposed while the experiment was paused or rolled back. */
  excludedInactive: number;
  /** Units a later exposure shows under another arm (assignment lost and redrawn); kept under their first. */
  armChanged: number;
  /** Units per arm that reported the reward, of those exposed, and whether the rates differ. */
  rewardReporting: {
    reported: Record<string, number>;
    exposed: Record<string, number>;
    pValue: number;
    alarm: boolean;
  };
  metrics: BanditMetricReport[];
  data: { file: string };
}

function propensityCheck(units: readonly BanditUnit[], arms: readonly string[], threshold: number) {
  const observed: Record<string, number> = {};
  const expected: Record<string, number> = {};
  for (const arm of arms) {
    observed[arm] = units.filter((u) => u.arm === arm).length;
    expected[arm] = units.reduce((s, u) => s + (u.propensities[arm] ?? 0), 0);
  }
  const live = arms.filter((arm) => expected[arm]! > 0);
  const chi2 = live.reduce((s, arm) => s + (observed[arm]! - expected[arm]!) ** 2 / expected[arm]!, 0);
  const df = Math.max(live.length - 1, 1);
  const pValue = chisqSf(chi2, df);
  return { chi2, df, pValue, alarm: pValue < threshold, observed, expected };
}

/**
 * Whether every arm reports the reward at the same rate: Pearson χ² of the arms × {reported,
 * missing} table (armContingency's two rows carry reported and missing counts here; the statistic
 * is the same either way round).
 */
function rewardReporting(
  units: readonly BanditUnit[],
  arms: readonly string[],
  reward: string,
  threshold: number,
) {
  const columns = arms.map((arm) => {
    const mine = units.filter((u) => u.arm === arm);
    const reported = mine.filter((u) => u.outcomes.has(reward)).length;
    return { control: reported, treatment: mine.length - reported };
  });
  const { pValue } = armContingency(columns);
  return {
    reported: Object.fromEntries(arms.map((arm, i) => [arm, columns[i]!.control])),
    exposed: Object.fromEntries(arms.map((arm, i) => [arm, columns[i]!.control + columns[i]!.treatment])),
    pValue,
    alarm: pValue < threshold,
  };
}

function metricReport(
  name: string,
  kind: "binary" | "continuous",
  direction: "increase" | "decrease",
  reward: boolean,
  units: readonly BanditUnit[],
  arms: readonly string[],
  alpha: number,
): BanditMetricReport {
  const k = arms.length - 1;
  const records = units.flatMap((u) => {
    const value = u.outcomes.get(name);
    return value === undefined ? [] : [{ arm: arms.indexOf(u.arm), propensity: u.propensity, reward: value }];
  });
  const means = records.length === 0 ? [] : ipwArmMeans(records, arms.length, alpha / k);
  const armReports = arms.map((variant, i): BanditArmReport => {
    const mine = records.filter((r) => r.arm === i);
    const m = means[i];
    const known = m !== undefined && Number.isFinite(m.mean);
    return {
      variant,
      n: mine.length,
      naiveMean: mine.length === 0 ? null : mine.reduce((s, r) => s + r.reward, 0) / mine.length,
      mean: known ? m.mean : null,
      se: known && Number.isFinite(m.se) ? m.se : null,
      ci: known && Number.isFinite(m.se) ? m.ci : null,
    };
  });
  const z = normQuantile(1 - alpha / k / 2);
  const control = armReports[0]!;
  const comparisons = armReports.slice(1).map((t): BanditComparison => {
    if (control.mean === null || t.mean === null || control.se === null || t.se === null) {
      return {
        treatment: t.variant,
        effect: null,
        ci: null,
        pValue: null,
        adjustedPValue: null,
        status: "inconclusive",
      };
    }
    const effect = t.mean - control.mean;
    const se = Math.sqrt(t.se ** 2 + control.se ** 2);
    const pValue = se > 0 ? twoSidedNormalP(effect / se) : effect === 0 ? 1 : 0;
    const good = direction === "increase" ? effect > 0 : effect < 0;
    const significant = pValue < alpha / k;
    return {
      treatment: t.variant,
      effect,
      ci: [effect - z * se, effect + z * se],
      pValue,
      adjustedPValue: Math.min(1, pValue * k),
      status: significant ? (good ? "better" : "worse") : "inconclusive",
    };
  });
  return { name, kind, direction, reward, arms: armReports, comparisons };
}

/** The analysis of a bandit experiment's event log. */
export async function runBanditAnalysis(
  spec: ExperimentSpec,
  dataPath: string,
): Promise<BanditAnalysisReport> {
  const bandit = spec.rollout.bandit;
  if (bandit === undefined) throw new RangeError("rollout.mode is not bandit: use the A/B analysis");
  const control = controlVariant(spec);
  const treatments = treatmentVariants(spec);
  const arms = [control, ...treatments];
  const declared = [...spec.metrics.primary, ...spec.metrics.secondary].filter(
    (m): m is typeof m & { kind: "binary" | "continuous" } =>
      (m.kind === "binary" || m.kind === "continuous") && !isRouterMeasuredName(m.name),
  );
  const all = [
    ...(
      await readBanditLog(dataPath, {
        variants: arms,
        metrics: new Map(declared.map((m) => [m.name, m.kind === "binary" ? "binary" : "mean"])),
      })
    ).values(),
  ];
  const units = all.filter((u) => u.firstState === "active");
  if (units.length === 0) {
    throw new DataError(
      [{ file: dataPath, line: 0, message: "holds no exposures: nothing to analyze yet" }],
      1,
    );
  }
  const alpha = spec.analysis.alpha;
  const k = treatments.length;
  const threshold = spec.analysis.srmThreshold;
  const check = propensityCheck(units, arms, threshold);
  const reporting = rewardReporting(units, arms, bandit.reward, threshold);
  const metrics = declared.map((m) =>
    metricReport(m.name, m.kind, m.direction, m.name === bandit.reward, units, arms, alpha),
  );
  let lowVersion = Number.POSITIVE_INFINITY;
  let highVersion = Number.NEGATIVE_INFINITY;
  for (const u of units) {
    lowVersion = Math.min(lowVersion, u.allocationVersion);
    highVersion = Math.max(highVersion, u.allocationVersion);
  }
  const reasons: string[] = [];
  let verdict: "ship" | "hold" = "hold";
  const reward = metrics.find((m) => m.reward);
  if (check.alarm) {
    reasons.push(
      `propensity check failed (χ² = ${check.chi2.toFixed(1)}, p = ${check.pValue.toExponential(2)}): units were not drawn with the probabilities the log records, so no weighted estimate holds`,
    );
  } else if (reporting.alarm) {
    reasons.push(
      `arms report ${bandit.reward} at different rates (p = ${reporting.pValue.toExponential(2)}): units missing a reward are left out, so the weighted means would be biased`,
    );
  } else if (reward !== undefined) {
    const better = reward.comparisons.filter((c) => c.status === "better");
    const best = better.sort((a, b) => Math.abs(b.effect ?? 0) - Math.abs(a.effect ?? 0))[0];
    if (best !== undefined) {
      verdict = "ship";
      reasons.push(
        `${best.treatment} beats ${control} on ${reward.name} at alpha/${k} (weighted difference ${best.effect?.toPrecision(3)}, adjusted p = ${best.adjustedPValue?.toPrecision(3)})`,
      );
    } else reasons.push(`no treatment is better than ${control} on ${reward.name} at alpha/${k}`);
    const worse = reward.comparisons.filter((c) => c.status === "worse").map((c) => c.treatment);
    if (worse.length > 0) reasons.push(`worse than ${control} on ${reward.name}: ${worse.join(", ")}`);
  }
  if (spec.metrics.guardrails.length > 0) {
    reasons.push(
      `guardrails (${spec.metrics.guardrails.map((g) => g.name).join(", ")}) are judged live by the Prometheus rules, not by this analysis`,
    );
  }
  return {
    experiment: spec.name,
    mode: "bandit",
    control,
    treatments,
    verdict,
    reasons,
    units: units.length,
    allocationVersions: [lowVersion, highVersion],
    excludedInactive: all.length - units.length,
    armChanged: units.filter((u) => u.armChanged).length,
    rewardReporting: reporting,
    estimator:
      "arm means weighted by inverse propensity (Hajek): allocation was adaptive, so plain means are biased; intervals are normal approximations, bounded by the floor",
    correction: { comparisons: k, alphaPerComparison: alpha / k },
    propensityCheck: check,
    metrics,
    data: { file: dataPath },
  };
}
