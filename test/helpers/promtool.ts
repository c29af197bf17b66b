/**
 * Runs Debian's `promtool` on files written to a throwaway directory: `check rules` on rule files,
 * `test rules` on unit-test files that name their rule files relative to that directory.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** What one promtool run printed and whether it succeeded. */
export interface PromtoolRun {
  readonly ok: boolean;
  readonly code: number | null;
  /** stdout and stderr together, as a person would read them. */
  readonly output: string;
}

const BINARY = process.env.PROMTOOL ?? "promtool";

function checkBinary(): void {
  const probe = spawnSync(BINARY, ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `cannot run ${BINARY} (${probe.error?.message ?? probe.stderr.trim()}): these tests need promtool; install the Debian package with \`apt-get install prometheus\` or set PROMTOOL to its path`,
    );
  }
}

/** Writes `files` (name → text) into a fresh directory, runs promtool there with `args`, removes it. */
function runIn(files: Readonly<Record<string, string>>, args: readonly string[]): PromtoolRun {
  checkBinary();
  const dir = mkdtempSync(join(tmpdir(), "llm-ab-promtool-"));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const run = spawnSync(BINARY, args, { cwd: dir, encoding: "utf8", timeout: 60_000 });
    if (run.error !== undefined) throw run.error;
    return { ok: run.status === 0, code: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `promtool check rules` with every lint on and fatal, over every file in `ruleFiles`. */
export function checkRules(ruleFiles: Readonly<Record<string, string>>): PromtoolRun {
  return runIn(ruleFiles, ["check", "rules", "--lint=all", "--lint-fatal", ...Object.keys(ruleFiles)]);
}

/**
 * `promtool test rules` on the files named in `tests`; `files` holds those test files and the rule
 * files they list under `rule_files`.
 */
export function testRules(files: Readonly<Record<string, string>>, tests: readonly string[]): PromtoolRun {
  return runIn(files, ["test", "rules", ...tests]);
}
