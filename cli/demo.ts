/**
 * `llm-ab demo [--scenario NAME]`: the whole experiment loop on this machine (local/demo.ts).
 * Progress goes to stderr (one rewritten line on a terminal, a line every 10 s otherwise); the
 * summary, or with `--json` the machine-readable outcome, goes to stdout.
 */
import { readdirSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { type Command, InvalidArgumentError } from "commander";
import { DemoInterrupted, runDemo } from "../local/demo.ts";
import { progressLine } from "../local/report/progress.ts";
import { renderTerminalSummary } from "../local/report/terminal.ts";
import { MissingBinaryError } from "../local/supervisor/server-process.ts";
import { closestName } from "../spec/closest-name.ts";
import { SpecError } from "../spec/errors.ts";
import { durationSeconds } from "../spec/primitives.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./main.ts";

/** The scenarios shipped with llm-ab, by name. */
export const SCENARIO_DIR = fileURLToPath(new URL("../examples/scenarios/", import.meta.url));

export function scenarioNames(): string[] {
  return readdirSync(SCENARIO_DIR)
    .filter((file) => file.endsWith(".yaml"))
    .map((file) => file.slice(0, -".yaml".length))
    .sort();
}

/** A scenario name (`winner`) or a path to a scenario file (anything with a slash or .yaml). */
export function scenarioPath(value: string): string {
  if (value.includes("/") || value.endsWith(".yaml") || value.endsWith(".yml")) return value;
  const names = scenarioNames();
  if (names.includes(value)) return `${SCENARIO_DIR}${value}.yaml`;
  const near = closestName(value, names);
  throw new CliError(
    `--scenario ${value}: no such scenario${near === undefined ? "" : ` (did you mean ${near}?)`}; the scenarios are ${names.join(", ")}, or give a path to a scenario file`,
  );
}

function seconds(value: string): number {
  const text = /^\d+(\.\d+)?$/.test(value) ? `${value}s` : value;
  let parsed: number;
  try {
    parsed = durationSeconds(text);
  } catch {
    parsed = Number.NaN;
  }
  if (!(parsed >= 5 && parsed <= 3600)) {
    throw new InvalidArgumentError(`expected a duration from 5s to 1h such as 90s or 2m, got "${value}"`);
  }
  return parsed;
}

function rate(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 200))
    throw new InvalidArgumentError(`expected conversations per second in (0, 200], got "${value}"`);
  return n;
}

interface DemoFlags {
  scenario: string;
  duration?: number;
  rate?: number;
  out?: string;
  json?: boolean;
  progress: boolean;
}

export function registerDemo(program: Command, io: CliIo): void {
  program
    .command("demo")
    .description(
      "Run an experiment end to end on this machine: simulated vLLM, the router, real Prometheus, Alertmanager and Redis, traffic, guardrails, a verdict and an HTML report",
    )
    .option("--scenario <name|file>", `what happens during the run: ${scenarioNames().join(", ")}`, "winner")
    .option(
      "--duration <time>",
      "length of the traffic, e.g. 90s or 2m (default: the scenario's, 2m)",
      seconds,
    )
    .option("--rate <n>", "new conversations per second (default: the scenario's)", rate)
    .option("--out <dir>", "where the report and the event log go (default: llm-ab-demo/<scenario>)")
    .option(
      "--json",
      'print {"scenario","verdict","events":[{"t","action","alert"}],"report"} instead of the summary',
    )
    .option("--no-progress", "no progress line on stderr")
    .addHelpText(
      "after",
      `
Needs the Debian packages prometheus, prometheus-alertmanager and redis-server
(\`npm run demo\` installs them when run as root). Ctrl-C stops everything and
removes the temporary files.`,
    )
    .action(async (flags: DemoFlags) => {
      const path = scenarioPath(flags.scenario);
      // A shipped scenario given by its full path is still that scenario, not a directory tree under --out.
      const name = basename(path).replace(/\.ya?ml$/, "");
      const outDir = flags.out ?? `llm-ab-demo/${name}`;
      const controller = new AbortController();
      let interrupts = 0;
      const onSignal = () => {
        interrupts += 1;
        // A second Ctrl-C ends at once; the exit hook still kills the servers and removes their files.
        if (interrupts > 1) process.exit(130);
        io.err(
          "\nstopping: waiting for the servers to exit and removing temporary files (Ctrl-C again to force)\n",
        );
        controller.abort();
      };
      // SIGHUP too: a closed terminal would otherwise kill this process before it stops its servers.
      const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
      for (const signal of signals) process.on(signal, onSignal);
      const tty = process.stderr.isTTY === true;
      let lastLine = 0;
      try {
        const result = await runDemo({
          scenarioPath: path,
          outDir,
          signal: controller.signal,
          ...(flags.duration === undefined ? {} : { durationSeconds: flags.duration }),
          ...(flags.rate === undefined ? {} : { conversationsPerSecond: flags.rate }),
          log: (line) => {
            if (flags.progress) io.err(`${tty ? "\r\x1b[K" : ""}${line}\n`);
          },
          onProgress: (snapshot) => {
            if (!flags.progress) return;
            if (tty)
              io.err(`\r\x1b[K${progressLine(snapshot, { color: true, width: process.stderr.columns })}`);
            else if (Date.now() - lastLine >= 10_000 || snapshot.phase === "analyzing") {
              lastLine = Date.now();
              io.err(`${progressLine(snapshot)}\n`);
            }
          },
        });
        if (flags.progress && tty) io.err("\r\x1b[K");
        if (flags.json) {
          io.out(
            `${JSON.stringify({
              scenario: result.scenario.name,
              verdict: result.verdict,
              events: result.events.map(({ t, action, alert }) => ({ t, action, alert })),
              report: result.files.report,
            })}\n`,
          );
        } else {
          io.out(`${renderTerminalSummary(result, { color: process.stdout.isTTY === true })}\n`);
        }
      } catch (error) {
        if (error instanceof DemoInterrupted) throw new CliError(error.message, 130);
        if (error instanceof MissingBinaryError) {
          throw new CliError(
            `llm-ab demo: ${error.message}\n(\`npm run demo\` installs prometheus, prometheus-alertmanager and redis-server when run as root)`,
          );
        }
        if (error instanceof SpecError) throw new CliError(error.message);
        throw error;
      } finally {
        for (const signal of signals) process.off(signal, onSignal);
      }
    });
}
