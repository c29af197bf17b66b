/**
 * The arena run as a person reads it in a terminal: the gate's decision and each check (value,
 * threshold, why), then what the judge did (position inconsistency, verbosity bias, agreement),
 * then where the files are.
 */
import Table from "cli-table3";
import type { ArenaRun } from "./run.ts";

const green = (text: string, color: boolean) => (color ? `\x1b[32m${text}\x1b[0m` : text);
const red = (text: string, color: boolean) => (color ? `\x1b[31m${text}\x1b[0m` : text);

export function renderArenaSummary(run: ArenaRun, options: { color?: boolean } = {}): string {
  const color = options.color ?? false;
  const { decision } = run;
  const r = decision.results;
  const head = decision.passed ? green(" GATE PASSED ", color) : red(" GATE FAILED ", color);
  const lines = [
    `${head} ${run.spec.name}: ${run.cases.length} golden cases, treatment vs control, judged by ${run.gateFile.judge.model}`,
    "",
  ];
  const table = new Table({ head: ["check", "", "value", "needs"], style: { head: [], border: [] } });
  for (const check of decision.checks) {
    table.push([
      check.name,
      check.passed ? green("pass", color) : red("FAIL", color),
      check.value,
      check.threshold,
    ]);
  }
  lines.push(table.toString(), "");
  for (const check of decision.checks) lines.push(`- ${check.name}: ${check.detail}`);
  lines.push("");
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  lines.push(
    `Judge: position-inconsistent on ${r.positionInconsistency.inconsistent} of ${r.positionInconsistency.pairs} pairs (${pct(r.positionInconsistency.rate)}), counted as ties.`,
  );
  lines.push(
    r.verbosity === undefined
      ? "Verbosity bias: not measurable (fewer than 3 cases, or no variation)."
      : `Verbosity bias: Spearman ρ ${r.verbosity.rho.toFixed(3)} (p ${r.verbosity.pValue.toPrecision(3)}) between the treatment's score and how much longer its answer was${Math.abs(r.verbosity.rho) >= 0.3 && r.verbosity.pValue < 0.05 ? ": the judge may be rewarding length" : ""}.`,
  );
  const sim = (x: number | null) => (x === null ? "–" : x.toFixed(3));
  if (run.similarity.length > 0) {
    lines.push(
      `Similarity to the references (cosine): control ${sim(r.similarity.control)}, treatment ${sim(r.similarity.treatment)}.`,
    );
  }
  if (r.truncated.control + r.truncated.treatment > 0) {
    lines.push(
      `Truncated at max_tokens (${run.config.maxTokens}): control ${r.truncated.control}, treatment ${r.truncated.treatment} answers — a cut answer loses for its length; raise maxTokens.`,
    );
  }
  lines.push(
    `Level 1: control failed ${r.level1.control.failed} checks, treatment ${r.level1.treatment.failed}.`,
    `Calls: ${run.calls.made} made, ${run.calls.cached} from the cache (${run.config.cache}).`,
    "",
    `Report: ${run.files.report}`,
    `Gate file: ${run.files.gate}`,
    `All generations and judgements: ${run.files.results}`,
  );
  return lines.join("\n");
}
