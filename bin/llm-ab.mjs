#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx's loader, so a fresh clone needs no build step.
import { register } from "tsx/esm/api";

register();
// `llm-ab … | head` closes stdout early: the reader has what it wanted, which is not an error.
process.stdout.on("error", (error) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(process.exitCode ?? 0);
});
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv);
