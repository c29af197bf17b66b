/**
 * A real, throwaway Alertmanager (Debian's `prometheus-alertmanager`) for tests: a given
 * configuration, 127.0.0.1 on a free port, clustering off, storage in a temp directory. Also
 * `amtool`, which comes in the same package, for config checks and route tests.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkBinary, startServerProcess } from "./server-process.ts";

/** A running test Alertmanager. */
export interface TestAlertmanager {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Directory holding the configuration and the files passed with it. */
  readonly dir: string;
  /** POSTs alerts to `/api/v2/alerts` (each `{ labels, annotations?, startsAt? }`); throws unless 200. */
  postAlerts(alerts: readonly PostableAlert[]): Promise<void>;
  /** Stops the server (SIGTERM), waits for it to exit and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** An alert as `POST /api/v2/alerts` takes it. */
export interface PostableAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly startsAt?: string;
  readonly endsAt?: string;
}

const BINARY = process.env.ALERTMANAGER ?? "prometheus-alertmanager";
const AMTOOL = process.env.AMTOOL ?? "amtool";

/**
 * Starts Alertmanager with `config` (YAML) written as `alertmanager.yml` beside `files` (name →
 * text, e.g. a token file the config names relatively); resolves once `/-/ready` answers.
 */
export async function startAlertmanager(
  config: string,
  files: Readonly<Record<string, string>> = {},
): Promise<TestAlertmanager> {
  checkBinary(BINARY, "Alertmanager", "prometheus-alertmanager", "ALERTMANAGER");
  const { url, dir, stop } = await startServerProcess({
    binary: BINARY,
    name: "Alertmanager",
    prefix: "llm-ab-alertmanager-",
    files: { ...files, "alertmanager.yml": config },
    args: (dir, port) => [
      `--config.file=${join(dir, "alertmanager.yml")}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // An empty address turns gossip off: a lone test instance has no peers to wait for.
      "--cluster.listen-address=",
    ],
    // Alertmanager is ready in well under a second; 15 s only guards against a loaded machine.
    readyTimeoutMs: 15_000,
  });
  return {
    url,
    dir,
    stop,
    postAlerts: async (alerts) => {
      const response = await fetch(`${url}/api/v2/alerts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(alerts),
      });
      if (!response.ok) {
        throw new Error(`POST /api/v2/alerts answered ${response.status}: ${await response.text()}`);
      }
    },
  };
}

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
