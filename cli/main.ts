/**
 * The `llm-ab` command line: thin wiring from commander to the pure modules.
 *
 * `main` returns the exit code instead of calling `process.exit`, so tests run commands in-process
 * and nothing is cut off before stdout drains. A command fails by throwing a `CliError`, whose
 * message is what the person sees.
 */
import { Command, CommanderError } from "commander";
import { commands } from "./commands.ts";
import { CliError } from "./errors.ts";

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export function buildProgram(io: CliIo): Command {
  const program = new Command("llm-ab")
    .description("Decide, with evidence, whether an LLM change earns production traffic.")
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError();
  for (const register of commands) register(program, io);
  return program;
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof CliError) {
      io.err(`${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}
