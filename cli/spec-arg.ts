/** Loading the `<spec>` argument every command takes, with errors a person can act on. */
import { InvalidArgumentError } from "commander";
import { SpecError } from "../spec/errors.ts";
import { loadSpecFile } from "../spec/load.ts";
import type { ExperimentSpec } from "../spec/schema.ts";
import { CliError } from "./errors.ts";

/** The parsed spec, or a CliError listing every problem with its field path. */
export async function loadSpecArg(path: string): Promise<ExperimentSpec> {
  try {
    return await loadSpecFile(path);
  } catch (error) {
    if (error instanceof SpecError)
      throw new CliError(`${error.message}\n(run \`llm-ab validate ${path}\` after fixing)`);
    throw error;
  }
}

/** Commander option parser for a positive whole number; commander names the option in its error. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return n;
}

/** Runs `fn`, turning the statistics' RangeErrors (bad input for a test) into CliErrors. */
export async function asCliError<T>(what: string, fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof RangeError) throw new CliError(`${what}: ${error.message}`);
    throw error;
  }
}
