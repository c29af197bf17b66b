/**
 * Runs `llm-ab demo` as a person would (a child process of the real CLI) and reads what it left:
 * the `--json` outcome on stdout and the full result.json beside the report.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { DemoResult } from "../../local/run-result.ts";

export const CLI = join(import.meta.dirname, "../../bin/llm-ab.mjs");

/** What `llm-ab demo --json` printed. */
export interface DemoJson {
  readonly scenario: string;
  readonly verdict: string;
  readonly events: readonly { t: number; action: string; alert: string }[];
  readonly report: string;
}

export interface DemoRun {
  readonly code: number | null;
  readonly stderr: string;
  readonly json: DemoJson;
  readonly result: DemoResult;
}

/** Runs the demo to the end and parses its outputs; throws with its stderr when it fails. */
export async function runDemoCli(args: readonly string[], outDir: string): Promise<DemoRun> {
  const child = spawn(process.execPath, [CLI, "demo", "--json", "--out", outDir, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (code !== 0) throw new Error(`llm-ab demo ${args.join(" ")} exited with ${code}:\n${stderr}`);
  const json = JSON.parse(stdout) as DemoJson;
  const result = JSON.parse(readFileSync(join(outDir, "result.json"), "utf8")) as DemoResult;
  return { code, stderr, json, result };
}
