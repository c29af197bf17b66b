/** `llm-ab analyze <spec> --data <file>`: the verdict, its reasons and the evidence behind it. */
import { stat } from "node:fs/promises";
import Table from "cli-table3";
import type { Command } from "commander";
import { DataError } from "../analysis/aggregate.ts";
import { type AnalysisReport, type ComparisonReport, runAnalysis } from "../analysis/analyze.ts";
import { runBanditAnalysis } from "../analysis/bandit-analysis.ts";
import { detectFormat } from "../analysis/data-format.ts";
import { renderBanditReport } from "./analyze-bandit.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./main.ts";
import { plain } from "./plan.ts";
import { asCliError, loadSpecArg, positiveInt } from "./spec-arg.ts";

/** JSON has no NaN or Infinity: an undefined quantity (a lift over a zero control) becomes null. */
const finite = (_key: string, value: unknown) =>
  typeof value === "number" && !Number.isFinite(value) ? null : value;

export function reportJson(report: AnalysisReport): string {
  return `${JSON.stringify(report, finite, 2)}\n`;
}

const num = (x: number | null | undefined, digits = 4) =>
  x === null || x === undefined ? "-" : x.toPrecision(digits);
const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? "-" : `${(100 * x).toFixed(2)} %`;
const p = (x: number | null) => (x === null ? "-" : x < 1e-4 ? x.toExponential(1) : x.toFixed(4));

/** Primary and secondary intervals are at 1 − alpha; guardrail rows at 1 − 2·alpha (one-sided bounds). */
const level = (alpha: number) => `${+(100 * (1 - alpha)).toFixed(2)} %`;

function progressLine(progress: ComparisonReport["progress"]): string {
  const look =
    progress.kind === "sequential"
      ? progress.look === null
        ? `before the first registered look (${progress.looks.join(", ")})`
        : `registered look ${progress.look} of ${progress.looks.length} (|z| boundary ${progress.boundary?.toFixed(4)} at the observed information)`
      : "fixed horizon";
  return `Progress: ${pct(progress.informationFraction)} of the planned information, ${look}`;
}

function srmLines(r: AnalysisReport): string[] {
  // With several treatments the counts need their arms' names; one treatment reads as before.
  const names = r.arms.length > 2 ? ` (${r.arms.join(" / ")})` : "";
  return [
    `SRM: chi2 ${r.srm.chi2.toFixed(2)}, p ${p(r.srm.pValue)}${r.srm.alarm ? "  ALARM" : ""} (observed ${r.srm.observed.join(" / ")}, expected ${r.srm.expected.map((e) => e.toFixed(1)).join(" / ")}${names})`,
    ...r.srmPhases.map(
      (phase) =>
        `  allocation phase ${phase.label}: observed ${phase.observed.join(" / ")}, expected ${phase.expected.map((e) => e.toFixed(1)).join(" / ")}, p ${p(phase.pValue)}`,
    ),
  ];
}

/** One comparison's evidence: the metric table, guardrails, per-metric notes and segment findings. */
function evidenceLines(c: ComparisonReport): string[] {
  const out: string[] = [];
  const table = new Table({
    head: [
      "metric",
      "role",
      "control",
      "treatment",
      "effect",
      "lift",
      `${level(c.alpha)} CI (abs.)`,
      "p",
      "adj. p",
      "status",
    ],
    style: plain,
  });
  for (const m of c.metrics) {
    table.push([
      m.name,
      m.role,
      `${num(m.control.mean)} (n=${m.control.n})`,
      `${num(m.treatment.mean)} (n=${m.treatment.n})`,
      num(m.effect, 3),
      pct(m.relativeLift),
      m.ci ? `[${num(m.ci[0], 3)}, ${num(m.ci[1], 3)}]` : "-",
      p(m.pValue),
      p(m.adjustedPValue),
      m.status,
    ]);
  }
  out.push(table.toString());
  if (c.metrics.some((m) => m.role === "guardrail" && m.ci !== null)) {
    out.push(
      `Guardrail rows show ${level(2 * c.alpha)} intervals: each end is a one-sided ${level(c.alpha)} non-inferiority bound.`,
    );
  }
  for (const g of c.guardrails) out.push(`Guardrail ${g.status}: ${g.reason}`);
  const said = new Set<string>();
  for (const m of c.metrics) {
    if (said.has(m.name)) continue;
    said.add(m.name);
    if (m.chanceToBeatControl !== undefined)
      out.push(`${m.name}: chance to beat control ${pct(m.chanceToBeatControl)} (Beta(1,1) prior)`);
    if (m.varianceReduction !== undefined)
      out.push(`${m.name}: CUPED removed ${pct(m.varianceReduction)} of the variance`);
    if (m.note !== undefined && m.status !== "live only") out.push(`${m.name}: not tested, ${m.note}`);
  }
  for (const s of c.segments) for (const f of s.findings) out.push(`Segments: ${f}`);
  return out;
}

/** The sentence that says how several comparisons are corrected and how to read adjusted p. */
export function correctionLine(r: AnalysisReport): string {
  const { comparisons: k, alphaPerComparison } = r.correction;
  return `Correction: Bonferroni over ${k} treatments: each treatment vs control at alpha ${r.plan.alpha}/${k} = ${Number(alphaPerComparison.toPrecision(4))}; adj. p is the within-comparison adjusted p × ${k} (capped at 1), to read against alpha ${r.plan.alpha}`;
}

export function renderReport(r: AnalysisReport): string {
  const out: string[] = [];
  const rows = `${r.data.rows.toLocaleString("en-US")} units from ${r.data.file}`;
  const only = r.comparisons.length === 1 ? r.comparisons[0] : undefined;
  if (only !== undefined) {
    out.push(`Experiment "${r.experiment}": ${only.treatment} vs ${r.control}, ${rows}`);
    out.push(progressLine(only.progress), ...srmLines(r), ...evidenceLines(only));
  } else {
    const names = r.comparisons.map((c) => c.treatment).join(", ");
    out.push(
      `Experiment "${r.experiment}": ${r.comparisons.length} treatments (${names}) vs ${r.control}, ${rows}`,
    );
    out.push(correctionLine(r), ...srmLines(r));
    for (const c of r.comparisons) {
      out.push(`\n== ${c.treatment} vs ${r.control}: ${c.verdict.toUpperCase()} ==`);
      out.push(progressLine(c.progress), ...evidenceLines(c));
      out.push("Reasons:", ...c.reasons.map((reason) => `  - ${reason}`));
    }
  }
  out.push(
    `\nVerdict: ${r.verdict.toUpperCase()}${only === undefined && r.verdict === "ship" ? ` ${r.treatment}` : ""}`,
  );
  for (const reason of r.reasons) out.push(`  - ${reason}`);
  return `${out.join("\n")}\n`;
}

export function registerAnalyze(program: Command, io: CliIo): void {
  program
    .command("analyze")
    .description("Give the verdict for a spec from unit-level data (JSONL or CSV)")
    .argument("<spec>", "experiment spec (.yaml, .yml or .json)")
    .requiredOption("--data <file>", "unit-level records: .jsonl/.ndjson or .csv")
    .option(
      "--format <format>",
      "data format when the extension does not say: jsonl, csv or events (the router's event log)",
    )
    .option("--look <k>", "the registered sequential look (1-based) this analysis is", positiveInt)
    .option("--json", "print machine-readable JSON")
    .addHelpText(
      "after",
      `
Data, one record per unit:
  JSONL  {"unit":"c-1","variant":"treatment","metrics":{"resolution_rate":1},"segments":{"region":"eu"},"pre":{"tokens":212}}
  CSV    unit,variant,<metric>...,segment.<name>...,pre.<metric>...
Verdicts: ship, hold, rollback, keep running, inconclusive.
A bandit spec (rollout.mode bandit) reads the router's event log and weights every unit by the
inverse of the probability its arm had when it was drawn (its exposures record them).`,
    )
    .action(
      async (specPath: string, opts: { data: string; format?: string; look?: number; json?: boolean }) => {
        const spec = await loadSpecArg(specPath);
        const file = await stat(opts.data).catch(() => undefined);
        if (!file) throw new CliError(`--data ${opts.data}: file not found`);
        if (!file.isFile()) throw new CliError(`--data ${opts.data}: not a regular file`);
        try {
          detectFormat(opts.data, opts.format);
        } catch (error) {
          throw new CliError((error as Error).message, 2);
        }
        if (spec.rollout.mode === "bandit") {
          const bandit = await asCliError(specPath, async () => {
            try {
              return await runBanditAnalysis(spec, opts.data);
            } catch (error) {
              if (error instanceof DataError) throw new CliError(error.message);
              throw error;
            }
          });
          io.out(opts.json ? `${JSON.stringify(bandit, finite, 2)}\n` : renderBanditReport(bandit));
          return;
        }
        const report = await asCliError(specPath, async () => {
          try {
            return await runAnalysis(spec, opts.data, {
              ...(opts.format === undefined ? {} : { format: opts.format }),
              ...(opts.look === undefined ? {} : { look: opts.look }),
            });
          } catch (error) {
            if (error instanceof DataError) throw new CliError(error.message);
            throw error;
          }
        });
        io.out(opts.json ? reportJson(report) : renderReport(report));
      },
    );
}
