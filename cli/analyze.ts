/** `llm-ab analyze <spec> --data <file>`: the verdict, its reasons and the evidence behind it. */
import { stat } from "node:fs/promises";
import Table from "cli-table3";
import type { Command } from "commander";
import { DataError } from "../analysis/aggregate.ts";
import { type AnalysisReport, runAnalysis } from "../analysis/analyze.ts";
import { detectFormat } from "../analysis/data-format.ts";
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
const ciLevel = (r: AnalysisReport) => `${+(100 * (1 - r.plan.alpha)).toFixed(2)} %`;

export function renderReport(r: AnalysisReport): string {
  const out: string[] = [];
  out.push(
    `Experiment "${r.experiment}": ${r.treatment} vs ${r.control}, ${r.data.rows.toLocaleString("en-US")} units from ${r.data.file}`,
  );
  const look =
    r.progress.kind === "sequential"
      ? r.progress.look === null
        ? `before the first registered look (${r.progress.looks.join(", ")})`
        : `registered look ${r.progress.look} of ${r.progress.looks.length} (|z| boundary ${r.progress.boundary?.toFixed(4)} at the observed information)`
      : "fixed horizon";
  out.push(`Progress: ${pct(r.progress.informationFraction)} of the planned information, ${look}`);
  out.push(
    `SRM: chi2 ${r.srm.chi2.toFixed(2)}, p ${p(r.srm.pValue)}${r.srm.alarm ? "  ALARM" : ""} (observed ${r.srm.observed.join(" / ")}, expected ${r.srm.expected.map((e) => e.toFixed(1)).join(" / ")})`,
  );
  for (const phase of r.srmPhases) {
    out.push(
      `  allocation phase ${phase.label}: observed ${phase.observed.join(" / ")}, expected ${phase.expected.map((e) => e.toFixed(1)).join(" / ")}, p ${p(phase.pValue)}`,
    );
  }
  const table = new Table({
    head: [
      "metric",
      "role",
      "control",
      "treatment",
      "effect",
      "lift",
      `${ciLevel(r)} CI (abs.)`,
      "p",
      "adj. p",
      "status",
    ],
    style: plain,
  });
  for (const m of r.metrics) {
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
  if (r.metrics.some((m) => m.role === "guardrail" && m.ci !== null)) {
    out.push(
      `Guardrail rows show ${+(100 * (1 - 2 * r.plan.alpha)).toFixed(2)} % intervals: each end is a one-sided ${ciLevel(r)} non-inferiority bound.`,
    );
  }
  for (const g of r.guardrails) out.push(`Guardrail ${g.status}: ${g.reason}`);
  const said = new Set<string>();
  for (const m of r.metrics) {
    if (said.has(m.name)) continue;
    said.add(m.name);
    if (m.chanceToBeatControl !== undefined)
      out.push(`${m.name}: chance to beat control ${pct(m.chanceToBeatControl)} (Beta(1,1) prior)`);
    if (m.varianceReduction !== undefined)
      out.push(`${m.name}: CUPED removed ${pct(m.varianceReduction)} of the variance`);
    if (m.note !== undefined && m.status !== "live only") out.push(`${m.name}: not tested, ${m.note}`);
  }
  for (const s of r.segments) for (const f of s.findings) out.push(`Segments: ${f}`);
  out.push(`\nVerdict: ${r.verdict.toUpperCase()}`);
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
Verdicts: ship, hold, rollback, keep running, inconclusive.`,
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
