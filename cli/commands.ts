/** Every `llm-ab` subcommand, in the order `--help` lists them. Each file registers one command. */
import type { Command } from "commander";
import { registerAnalyze } from "./analyze.ts";
import { registerArena } from "./arena.ts";
import { registerDemo } from "./demo.ts";
import { registerInterleaving } from "./interleaving.ts";
import type { CliIo } from "./main.ts";
import { registerMonitoring } from "./monitoring.ts";
import { registerPlan } from "./plan.ts";
import { registerRender } from "./render.ts";
import { registerRouter } from "./router.ts";
import { registerValidate } from "./validate.ts";

export type RegisterCommand = (program: Command, io: CliIo) => void;

export const commands: RegisterCommand[] = [
  registerValidate,
  registerPlan,
  registerAnalyze,
  registerRouter,
  registerMonitoring,
  registerRender,
  registerArena,
  registerInterleaving,
  registerDemo,
];
