/**
 * A real, throwaway Prometheus (Debian's `prometheus`) for tests: a given configuration and rule
 * files, 127.0.0.1 on a free port, its TSDB in a temp directory; and instant queries against it.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One series of an instant query's vector result. */
export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

/** What an instant query returned: a vector's series, or one scalar sample. */
export type QueryResult =
  | { readonly ok: true; readonly resultType: string; readonly series: readonly Sample[] }
  | { readonly ok: false; readonly error: string };

/** A running test Prometheus. */
export interface TestPrometheus {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Directory holding the configuration and rule files. */
  readonly dir: string;
  /** `GET /api/v1/query` now; a PromQL error is returned, not thrown. */
  query(expr: string): Promise<QueryResult>;
  /** Stops the server (SIGTERM), waits for it to exit and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

const BINARY = process.env.PROMETHEUS ?? "prometheus";

function checkBinary(): void {
  const probe = spawnSync(BINARY, ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `cannot run ${BINARY} (${probe.error?.message ?? probe.stderr.trim()}): these tests need a real Prometheus; install the Debian package with \`apt-get install prometheus\` or set PROMETHEUS to its path`,
    );
  }
}

/** A port nothing listens on right now (the OS picks it; Prometheus binds it a moment later). */
async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function isReady(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(500) })).ok;
  } catch {
    return false;
  }
}

/**
 * Starts Prometheus with `config` (YAML) written as `prometheus.yml` beside `files` (name → text,
 * e.g. the rule files the config lists relatively); resolves once `/-/ready` answers.
 */
export async function startPrometheus(
  config: string,
  files: Readonly<Record<string, string>> = {},
): Promise<TestPrometheus> {
  checkBinary();
  const dir = mkdtempSync(join(tmpdir(), "llm-ab-prometheus-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const configFile = join(dir, "prometheus.yml");
  writeFileSync(configFile, config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const child: ChildProcess = spawn(
    BINARY,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const query = async (expr: string): Promise<QueryResult> => {
    const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: Sample[] | [number, string] };
    };
    if (body.status !== "success" || body.data === undefined) {
      return { ok: false, error: body.error ?? `HTTP ${response.status}` };
    }
    const { resultType, result } = body.data;
    const series = resultType === "vector" || resultType === "matrix" ? (result as Sample[]) : [];
    const scalar = resultType === "scalar" ? [{ metric: {}, value: result as [number, string] }] : [];
    return { ok: true, resultType, series: [...series, ...scalar] };
  };

  // Prometheus is ready in a second or two; 30 s only guards against a loaded machine.
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) break;
    if (await isReady(url)) return { url, dir, query, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`Prometheus on port ${port} did not become ready; its output:\n${output}`);
}
