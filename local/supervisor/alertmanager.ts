/**
 * A real Alertmanager (Debian's `prometheus-alertmanager`): a given configuration, 127.0.0.1 on a
 * free port, clustering off, storage in a temporary directory.
 */
import { join } from "node:path";
import { checkBinary, startServerProcess } from "./server-process.ts";

/** A running Alertmanager. */
export interface RunningAlertmanager {
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

/**
 * Starts Alertmanager with `config` (YAML) written as `alertmanager.yml` beside `files` (name →
 * text, e.g. a token file the config names relatively); resolves once `/-/ready` answers.
 */
export async function startAlertmanager(
  config: string,
  files: Readonly<Record<string, string>> = {},
  parentDir?: string,
): Promise<RunningAlertmanager> {
  checkBinary(BINARY, "Alertmanager", "prometheus-alertmanager", "ALERTMANAGER");
  const { url, dir, stop } = await startServerProcess({
    binary: BINARY,
    name: "Alertmanager",
    prefix: "llm-ab-alertmanager-",
    ...(parentDir === undefined ? {} : { parentDir }),
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
