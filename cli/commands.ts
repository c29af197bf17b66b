/** Every `llm-ab` subcommand, in the order `--help` lists them. Each file registers one command. */
import type { Command } from "commander";
import type { CliIo } from "./main.ts";

export type RegisterCommand = (program: Command, io: CliIo) => void;

export const commands: RegisterCommand[] = [];
