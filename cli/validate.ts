/**
 * `llm-ab validate <spec>`: load a spec file and report whether it is usable, listing every problem
 * with its field path. CI runs it on every change to a spec, before anything is previewed or deployed.
 */
import type { Command } from "commander";
import { formatProblem, SpecError, type SpecProblem } from "../spec/errors.ts";
import { loadSpecFile, specHash } from "../spec/load.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./main.ts";

type Outcome = { ok: true; spec: ExperimentSpec } | { ok: false; problems: readonly SpecProblem[] };

async function check(file: string): Promise<Outcome> {
  try {
    return { ok: true, spec: await loadSpecFile(file) };
  } catch (error) {
    if (error instanceof SpecError) return { ok: false, problems: error.problems };
    throw error;
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** The one-line verdict for a valid spec. */
export function validSummary(file: string, spec: ExperimentSpec): string {
  const sizes = [
    count(Object.keys(spec.variants).length, "variant"),
    count(Object.keys(spec.deployments).length, "deployment"),
    count(spec.metrics.guardrails.length, "guardrail"),
  ];
  return `✓ ${file}: experiment "${spec.name}" is valid (${sizes.join(", ")})`;
}

export function registerValidate(program: Command, io: CliIo): void {
  program
    .command("validate")
    .description("Check an experiment spec and list every problem with its field path.")
    .argument("<spec>", "spec file: .yaml, .yml or .json")
    .option("--json", "print { valid, file, problems } as JSON (exit code is still 1 when invalid)")
    .addHelpText(
      "after",
      "\nExit codes: 0 valid, 1 invalid (every problem is printed as `<file>: <path>: <message>`).",
    )
    .action(async (file: string, options: { json?: boolean }) => {
      const outcome = await check(file);
      if (options.json) {
        const report = outcome.ok
          ? {
              valid: true,
              file,
              experiment: outcome.spec.name,
              specHash: specHash(outcome.spec),
              problems: [],
            }
          : { valid: false, file, problems: outcome.problems };
        io.out(`${JSON.stringify(report, null, 2)}\n`);
        if (!outcome.ok)
          throw new CliError(`${file}: invalid spec (${count(outcome.problems.length, "problem")})`);
        return;
      }
      if (!outcome.ok) {
        throw new CliError(
          outcome.problems.map((problem) => `${file}: ${formatProblem(problem)}`).join("\n"),
        );
      }
      io.out(`${validSummary(file, outcome.spec)}\n`);
    });
}
