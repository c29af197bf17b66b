/** `llm-ab analyze` output for a bandit (rollout.mode bandit): weighted arm means and comparisons. */
import Table from "cli-table3";
import type { BanditAnalysisReport, BanditMetricReport } from "../analysis/bandit-analysis.ts";
import { plain } from "./plan.ts";

const num = (x: number | null | undefined, digits = 4) =>
  x === null || x === undefined ? "-" : x.toPrecision(digits);
const p = (x: number | null) => (x === null ? "-" : x < 1e-4 ? x.toExponential(1) : x.toFixed(4));
const interval = (ci: [number, number] | null) => (ci === null ? "-" : `[${num(ci[0])}, ${num(ci[1])}]`);

function metricLines(m: BanditMetricReport, level: string): string[] {
  const title = `\n${m.name} (${m.kind}, ${m.direction} is better)${m.reward ? ": the bandit's reward" : ""}`;
  if (m.arms.every((a) => a.n === 0)) return [`${title}: no values in the log`];
  const arms = new Table({
    head: ["arm", "units", "plain mean", "weighted mean", `${level} CI`],
    style: plain,
  });
  for (const a of m.arms) arms.push([a.variant, String(a.n), num(a.naiveMean), num(a.mean), interval(a.ci)]);
  const vs = new Table({
    head: ["treatment − control", "difference", `${level} CI`, "p", "adj. p", "status"],
    style: plain,
  });
  for (const c of m.comparisons) {
    vs.push([c.treatment, num(c.effect), interval(c.ci), p(c.pValue), p(c.adjustedPValue), c.status]);
  }
  const role = m.reward ? "reward (the bandit allocated on it)" : "not the reward";
  return [`\n${m.name} (${m.kind}, ${m.direction} is better; ${role})`, arms.toString(), vs.toString()];
}

/** The human report of a bandit analysis. */
export function renderBanditReport(r: BanditAnalysisReport): string {
  const k = r.correction.comparisons;
  const level = `${+(100 * (1 - r.correction.alphaPerComparison)).toFixed(2)} %`;
  const check = r.propensityCheck;
  const out = [
    `Bandit analysis of "${r.experiment}": ${r.units} units, allocation versions ${r.allocationVersions[0]}–${r.allocationVersions[1]}`,
    `Estimator: ${r.estimator}.`,
    `Comparisons: ${k} treatment${k === 1 ? "" : "s"} against ${r.control}, each at alpha ${+r.correction.alphaPerComparison.toPrecision(4)}${k > 1 ? ` (Bonferroni over ${k}; adj. p = p × ${k}, capped at 1)` : ""}.`,
    `Propensity check: χ² = ${check.chi2.toFixed(2)} on ${check.df} df, p = ${p(check.pValue)}${check.alarm ? " — ALARM: units were not drawn with the logged probabilities" : " (units were drawn as logged)"}; units ${Object.entries(
      check.observed,
    )
      .map(([arm, n]) => `${arm} ${n} (expected ${check.expected[arm]?.toFixed(1)})`)
      .join(", ")}`,
  ];
  const reporting = r.rewardReporting;
  out.push(
    `Rewards reported: ${Object.entries(reporting.exposed)
      .map(([arm, n]) => `${arm} ${reporting.reported[arm] ?? 0} of ${n}`)
      .join(
        ", ",
      )}; p = ${p(reporting.pValue)}${reporting.alarm ? " — ALARM: arms report at different rates" : ""}`,
  );
  if (r.excludedInactive > 0) {
    out.push(
      `Left out: ${r.excludedInactive} units first exposed while the experiment was paused or rolled back (control served them)`,
    );
  }
  if (r.armChanged > 0) {
    out.push(
      `Reassigned: ${r.armChanged} units later served under another arm (the router lost their assignment and drew again: a memory store restarted or evicted them); each counts under its first arm`,
    );
  }
  for (const m of r.metrics) out.push(...metricLines(m, level));
  out.push(`\nVerdict: ${r.verdict.toUpperCase()}`);
  for (const reason of r.reasons) out.push(`  - ${reason}`);
  return `${out.join("\n")}\n`;
}
