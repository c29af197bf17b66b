/**
 * Alertmanager for tests: the local stack's supervisor (local/supervisor/alertmanager.ts), and
 * `amtool`, which comes in the same Debian package, for config checks and route tests.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkBinary } from "../../local/supervisor/server-process.ts";

export {
  type PostableAlert,
  type RunningAlertmanager as TestAlertmanager,
  startAlertmanager,
} from "../../local/supervisor/alertmanager.ts";

const AMTOOL = process.env.AMTOOL ?? "amtool";

/** What an amtool run printed and whether it succeeded. */
export interface AmtoolRun {
  readonly ok: boolean;
  readonly output: string;
}

/**
 * Runs `amtool <args>` with `{config}` in the arguments replaced by the path of `config` written
 * to a temp directory (beside `files`).
 */
export function amtool(
  config: string,
  args: readonly string[],
  files: Readonly<Record<string, string>> = {},
): AmtoolRun {
  checkBinary(AMTOOL, "amtool", "prometheus-alertmanager", "AMTOOL");
  const dir = mkdtempSync(join(tmpdir(), "llm-ab-amtool-"));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const configFile = join(dir, "alertmanager.yml");
    writeFileSync(configFile, config);
    const run = spawnSync(
      AMTOOL,
      args.map((arg) => arg.replaceAll("{config}", configFile)),
      { cwd: dir, encoding: "utf8", timeout: 30_000 },
    );
    if (run.error !== undefined) throw run.error;
    return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
