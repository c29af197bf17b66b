/** `llm-ab plan <spec>`: how many units, how many days, and the sequential boundaries. */
import Table from "cli-table3";
import type { Command } from "commander";
import { type ExperimentPlan, planExperiment } from "../analysis/plan.ts";
import type { CliIo } from "./main.ts";
import { asCliError, loadSpecArg, positiveInt } from "./spec-arg.ts";

/** No colour codes: the tables are read in CI logs and pasted into reviews as often as on a terminal. */
export const plain = { head: [], border: [] };
const int = (n: number) => n.toLocaleString("en-US");
const days = (d: number | null) => (d === null ? "-" : `${int(d)} d`);

/** The `--json` shape: stable keys a CI job or a notebook reads. */
export function planJson(plan: ExperimentPlan) {
  return {
    experiment: plan.experiment,
    alpha: plan.alpha,
    power: plan.power,
    treatments: plan.treatments,
    comparisonAlpha: plan.comparisonAlpha,
    treatmentShare: plan.treatmentShare,
    dailyUnits: plan.dailyUnits,
    metrics: plan.metrics.map((m) => ({
      name: m.name,
      kind: m.kind,
      baseline: m.baseline,
      target: m.target,
      perArm: m.perArm,
      control: m.max.control,
      treatment: m.max.treatment,
      total: m.total,
      fixedHorizon: m.fixed,
      days: m.days,
      mdeAtMaxDays: m.mdeAtMaxDays,
    })),
    maxDays: plan.maxDays,
    sequential: plan.sequential && {
      spending: plan.sequential.spending,
      looks: plan.sequential.looks,
      boundaries: plan.sequential.boundaries,
      nominalPValues: plan.sequential.nominalPValues,
      cumulativeAlpha: plan.sequential.cumulativeAlpha,
      inflation: plan.sequential.inflation,
      unitsAtLook: plan.sequential.unitsAtLook,
      daysAtLook: plan.sequential.daysAtLook,
    },
    notes: plan.notes,
  };
}

export function renderPlan(plan: ExperimentPlan): string {
  const out: string[] = [];
  const arms = plan.treatments.length;
  const pct = (x: number) => Number((100 * x).toPrecision(3));
  const split =
    arms === 1
      ? `split ${pct(1 - plan.treatmentShare)}/${pct(plan.treatmentShare)} (control/treatment)`
      : `split ${pct(1 - plan.treatmentShare)}/${Array(arms)
          .fill(pct(plan.treatmentShare / arms))
          .join(
            "/",
          )} (control/${plan.treatments.join("/")}), each comparison at alpha ${Number(plan.comparisonAlpha.toPrecision(4))} (Bonferroni)`;
  out.push(`Plan for "${plan.experiment}": alpha ${plan.alpha} two-sided, power ${plan.power}, ${split}`);
  const head = [
    "primary metric",
    "baseline → target",
    "control",
    arms === 1 ? "treatment" : "each treatment",
    "total",
    "days",
  ];
  if (plan.maxDays !== null) head.push(`MDE in ${plan.maxDays} d`);
  const sizes = new Table({ head, style: plain });
  for (const m of plan.metrics) {
    const shift = m.baseline === null || m.target === null ? "-" : `${m.baseline} → ${+m.target.toFixed(6)}`;
    const row = [m.name, shift, int(m.max.control), int(m.max.treatment), int(m.total), days(m.days)];
    if (plan.maxDays !== null) row.push(m.mdeAtMaxDays === null ? "-" : m.mdeAtMaxDays.toPrecision(3));
    sizes.push(row);
  }
  out.push(sizes.toString());
  if (plan.dailyUnits === null)
    out.push("Duration: pass --daily-units N (or set analysis.dailyUnits) to turn units into days.");
  else out.push(`Duration at ${int(plan.dailyUnits)} units/day entering the experiment.`);
  const seq = plan.sequential;
  if (seq) {
    out.push(
      `\nGroup-sequential design: ${seq.spending} spending (Lan-DeMets), ${seq.looks.length} looks; the maximum sample is ${seq.inflation.toFixed(4)} x the fixed horizon.`,
    );
    const looks = new Table({
      head: ["look", "information", "units", "days", "|z| boundary", "nominal p", "alpha spent"],
      style: plain,
    });
    seq.looks.forEach((t, i) => {
      looks.push([
        String(i + 1),
        `${(100 * t).toFixed(0)} %`,
        int(seq.unitsAtLook[i]!),
        days(seq.daysAtLook[i]!),
        seq.boundaries[i]!.toFixed(4),
        seq.nominalPValues[i]!.toExponential(3),
        seq.cumulativeAlpha[i]!.toExponential(3),
      ]);
    });
    out.push(looks.toString());
  }
  for (const n of plan.notes) out.push(`Note: ${n}`);
  return `${out.join("\n")}\n`;
}

export function registerPlan(program: Command, io: CliIo): void {
  program
    .command("plan")
    .description("Sample size per arm and in total, duration, and sequential boundaries for a spec")
    .argument("<spec>", "experiment spec (.yaml, .yml or .json)")
    .option(
      "--daily-units <n>",
      "units entering the experiment per day (overrides analysis.dailyUnits)",
      positiveInt,
    )
    .option("--json", "print machine-readable JSON")
    .action(async (specPath: string, opts: { dailyUnits?: number; json?: boolean }) => {
      const spec = await loadSpecArg(specPath);
      const plan = await asCliError(specPath, () =>
        planExperiment(spec, opts.dailyUnits === undefined ? {} : { dailyUnits: opts.dailyUnits }),
      );
      io.out(opts.json ? `${JSON.stringify(planJson(plan), null, 2)}\n` : renderPlan(plan));
    });
}
