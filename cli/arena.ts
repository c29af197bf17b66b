/**
 * `llm-ab arena run <config>`: the offline gate (arena/run.ts), and `llm-ab arena check`: whether a
 * gate file lets a spec go live (the same check `pulumi up` makes).
 *
 * Exit codes: 0 the gate passed (or the check allows exposure), 3 the gate failed (or the check
 * refuses), 1 the inputs or the calls were wrong (the message names the file, line or case).
 */
import type { Command } from "commander";
import { HttpCallError } from "../arena/client.ts";
import { DatasetError } from "../arena/dataset.ts";
import { exposureBlock, readGateFile } from "../arena/gate-file.ts";
import { JudgeOutputError } from "../arena/judges.ts";
import { RubricError } from "../arena/rubric.ts";
import { ArenaRunError, runArena } from "../arena/run.ts";
import { renderArenaSummary } from "../arena/summary.ts";
import { SpecError } from "../spec/errors.ts";
import { loadSpecFile, specHash } from "../spec/load.ts";
import { registerArenaLive } from "./arena-live.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./main.ts";

/** Exit code of a gate that ran and failed. */
export const GATE_FAILED_EXIT = 3;

interface RunFlags {
  out: string;
  json?: boolean;
  progress: boolean;
}

function inputError(error: unknown): CliError | undefined {
  if (
    error instanceof SpecError ||
    error instanceof DatasetError ||
    error instanceof RubricError ||
    error instanceof ArenaRunError
  ) {
    return new CliError(error.message);
  }
  // A failed call after its retries (names the URL and status), and plain Errors from the checks
  // made before any call (an unknown variant, a deployment without endpoint): messages for people.
  if (error instanceof HttpCallError || (error instanceof Error && error.name === "Error")) {
    return new CliError(`llm-ab arena: ${error.message}`);
  }
  if (error instanceof JudgeOutputError) {
    return new CliError(
      `${error.message}\n(the judge's answer must be the JSON its prompt asks for; nothing was counted as a tie)`,
    );
  }
  return undefined;
}

export function registerArena(program: Command, io: CliIo): void {
  const arena = program
    .command("arena")
    .description(
      "The offline gate: golden cases through control and treatment, judged in both orders, with statistics",
    );

  arena
    .command("run")
    .description(
      "Generate, evaluate (Level 1–3), judge pairwise in both orders, decide the gate and write gate.json",
    )
    .argument("<config>", "arena config (YAML): spec, dataset, rubric, audit, endpoints, judge")
    .option("--out <dir>", "where gate.json and results.json go", "llm-ab-arena")
    .option("--json", "print gate.json instead of the summary")
    .option("--no-progress", "no progress on stderr")
    .addHelpText(
      "after",
      `
Exit codes: 0 gate passed, ${GATE_FAILED_EXIT} gate failed, 1 bad input or failed calls.
Calls are cached in the config's cache directory: a rerun pays only for what changed.`,
    )
    .action(async (configPath: string, flags: RunFlags) => {
      const tty = process.stderr.isTTY === true;
      let last = "";
      try {
        const run = await runArena({
          configPath,
          outDir: flags.out,
          onProgress: (p) => {
            if (!flags.progress) return;
            const line = `arena: ${p.phase} ${p.done}/${p.total}${p.cached === undefined ? "" : ` (${p.cached} cached)`}`;
            if (tty) io.err(`\r\x1b[K${line}`);
            else if (p.done === p.total && line !== last) io.err(`${line}\n`);
            last = line;
          },
        });
        if (flags.progress && tty) io.err("\r\x1b[K");
        io.out(
          flags.json
            ? `${JSON.stringify(run.gateFile, null, 2)}\n`
            : `${renderArenaSummary(run, { color: process.stdout.isTTY === true })}\n`,
        );
        if (!run.decision.passed) throw new CliError("", GATE_FAILED_EXIT);
      } catch (error) {
        throw inputError(error) ?? error;
      }
    });

  registerArenaLive(arena, io);

  arena
    .command("check")
    .description("Whether a gate file lets this spec expose users to its treatment (what `pulumi up` checks)")
    .argument("<gate>", "gate.json written by `llm-ab arena run`")
    .requiredOption("--spec <file>", "the experiment spec about to be deployed")
    .action(async (gatePath: string, flags: { spec: string }) => {
      let spec: Awaited<ReturnType<typeof loadSpecFile>>;
      try {
        spec = await loadSpecFile(flags.spec);
      } catch (error) {
        throw inputError(error) ?? error;
      }
      let gate: Awaited<ReturnType<typeof readGateFile>>;
      try {
        gate = await readGateFile(gatePath);
      } catch (error) {
        throw new CliError((error as Error).message);
      }
      const block = exposureBlock(spec, gate, gatePath);
      if (block !== undefined) throw new CliError(block, GATE_FAILED_EXIT);
      const sameSpec = gate.specHash === specHash(spec) ? "this spec" : "another version of the spec";
      io.out(
        spec.gate.required
          ? `✓ ${gatePath}: the gate passed for this spec (${gate.specHash.slice(0, 12)}…); live exposure allowed\n`
          : `✓ ${flags.spec} does not require a gate (gate.required is false); ${gatePath} ${gate.passed ? "passed" : "failed"} for ${sameSpec}\n`,
      );
    });
}
