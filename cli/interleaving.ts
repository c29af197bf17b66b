/**
 * `llm-ab interleaving analyze <events.jsonl>`: which of two rankers users prefer, from the
 * interleaved lists and click feedback in the router's event log (analysis/interleaving-log.ts).
 *
 * Exit codes: 0 the analysis ran (whatever it concluded), 1 bad input (a missing file, a bad
 * option, a malformed record named by file, line and field).
 */
import { stat } from "node:fs/promises";
import { type Command, InvalidArgumentError } from "commander";
import { analyzeInterleavingLog, type InterleavingLogReport } from "../analysis/interleaving-log.ts";
import { DataError } from "../analysis/locate-errors.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./main.ts";

/** Commander option parser for a significance level strictly between 0 and 1. */
function alphaArg(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`expected a number between 0 and 1, got "${value}"`);
  return n;
}

/** JSON has no NaN: an undefined preference (no decided query) becomes null. */
const finite = (_key: string, value: unknown) =>
  typeof value === "number" && !Number.isFinite(value) ? null : value;

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)} %` : "-");
const pValue = (x: number) => (x < 1e-4 ? x.toExponential(1) : x.toFixed(4));
const count = (n: number) => n.toLocaleString("en-US");
const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

/**
 * The one-line conclusion. The exact sign test decides (its p against alpha); the interval gives
 * the size. Both test the same share, so they agree except at the edge of significance.
 */
export function conclusion(r: InterleavingLogReport): string {
  const { result, alpha } = r;
  const decided = result.winsA + result.winsB;
  if (r.repeatedSeeds > 0) {
    return `${count(r.repeatedSeeds)} lists share their seed with another list, so queries were not randomized independently (a caller fixed the seed?) and position bias can pose as a preference: no conclusion`;
  }
  if (decided === 0) {
    return "no query was decided (no clicks, or only ties): no preference can be measured yet";
  }
  if (result.signTestP < alpha) {
    const [winner, loser] = result.winsB > result.winsA ? [r.treatment, r.control] : [r.control, r.treatment];
    return `users prefer the ${winner} ranker over ${loser} (sign test p ${pValue(result.signTestP)} < alpha ${alpha})`;
  }
  return `no detectable preference between ${r.treatment} and ${r.control} at alpha ${alpha} over ${count(decided)} decided queries`;
}

/** The human report. */
export function renderInterleaving(r: InterleavingLogReport): string {
  const { result } = r;
  const level = `${+(100 * (1 - r.alpha)).toFixed(2)} %`;
  const out = [
    `Interleaving "${r.experiment}": ${r.treatment} (team B) vs ${r.control} (team A), from ${r.file}`,
    `Queries: ${count(r.lists)} interleaved lists, ${count(r.withFeedback)} with feedback, ${count(result.withClicks)} with clicks`,
    `Decided: ${r.treatment} won ${count(result.winsB)}, ${r.control} won ${count(result.winsA)}, ties ${count(result.ties)}`,
    `Preference for ${r.treatment}: ${pct(result.preferenceB)} of decided queries, ${level} CI [${pct(result.ci[0])}, ${pct(result.ci[1])}] (50 % = no preference)`,
    `  ties counted as half a win: ${pct(result.preferenceBWithTies)}`,
    `Sign test: p ${pValue(result.signTestP)}`,
  ];
  if (r.orphanFeedback > 0) {
    out.push(
      `Skipped: ${plural(r.orphanFeedback, "feedback record")} for ${plural(r.orphanQueries, "query", "queries")} with no list in this log (e.g. ${r.orphanExamples.join(", ")})`,
    );
  }
  if (r.ambiguousQueries > 0) {
    out.push(
      `Skipped: ${plural(r.ambiguousQueries, "query", "queries")} with several lists under one queryId (${plural(r.ambiguousLists, "list")}: a retry reused the id), and their feedback`,
    );
  }
  out.push(`\nConclusion: ${conclusion(r)}`);
  return `${out.join("\n")}\n`;
}

export function registerInterleaving(program: Command, io: CliIo): void {
  const interleaving = program
    .command("interleaving")
    .description("Team-draft interleaving of two rankers through the router (POST /v1/interleave)");

  interleaving
    .command("analyze")
    .description("Which ranker users prefer: per-query preference with its interval and the sign test")
    .argument("<events>", "the router's event log (JSONL, router --events)")
    .option("--alpha <alpha>", "two-sided significance level", alphaArg, 0.05)
    .option("--treatment <variant>", "the treatment ranker to compare with control, when the log has several")
    .option("--json", "print machine-readable JSON")
    .addHelpText(
      "after",
      `
Each interleaving record is one query's list; interleaving_feedback records are joined to it by
queryId. A query goes to the ranker whose items got more clicks; lists without clicks count as
queries with no preference. Exit codes: 0 analysed, 1 bad input.`,
    )
    .action(async (path: string, flags: { alpha: number; treatment?: string; json?: boolean }) => {
      const file = await stat(path).catch(() => undefined);
      if (!file) throw new CliError(`${path}: file not found`);
      if (!file.isFile()) throw new CliError(`${path}: not a regular file`);
      let report: InterleavingLogReport;
      try {
        report = await analyzeInterleavingLog(path, {
          alpha: flags.alpha,
          ...(flags.treatment === undefined ? {} : { treatment: flags.treatment }),
        });
      } catch (error) {
        if (error instanceof DataError || error instanceof RangeError) throw new CliError(error.message);
        throw error;
      }
      io.out(flags.json ? `${JSON.stringify(report, finite, 2)}\n` : renderInterleaving(report));
    });
}
