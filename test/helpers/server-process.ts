/**
 * The lifecycle every real server a test starts shares (Prometheus, Alertmanager): check the
 * Debian binary is there, configure it in a temp directory, bind 127.0.0.1 on a free port, wait
 * for `/-/ready`, and stop it (SIGTERM, wait for exit, remove the directory).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Throws, naming the Debian package to install, when `binary` cannot run. */
export function checkBinary(binary: string, what: string, debianPackage: string, envVar: string): void {
  const probe = spawnSync(binary, ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `cannot run ${binary} (${probe.error?.message ?? probe.stderr.trim()}): these tests need a real ${what}; install the Debian package with \`apt-get install ${debianPackage}\` or set ${envVar} to its path`,
    );
  }
}

/** A port nothing listens on right now (the OS picks it; the server binds it a moment later). */
export async function freePort(): Promise<number> {
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

export interface ServerProcess {
  readonly url: string;
  readonly dir: string;
  /** Stops the server (SIGTERM), waits for it to exit and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

export interface ServerLaunch {
  binary: string;
  /** Names the server in errors, e.g. "Prometheus". */
  name: string;
  /** Temp directory prefix. */
  prefix: string;
  /** Files to write into the directory first (name → text). */
  files: Readonly<Record<string, string>>;
  /** Arguments, given the directory and the port. */
  args: (dir: string, port: number) => string[];
  /** How long readiness may take on a loaded machine. */
  readyTimeoutMs: number;
}

/** Starts the server and resolves once `GET /-/ready` answers 200; on failure, throws with its output. */
export async function startServerProcess(launch: ServerLaunch): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), launch.prefix));
  for (const [name, text] of Object.entries(launch.files)) writeFileSync(join(dir, name), text);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const child: ChildProcess = spawn(launch.binary, launch.args(dir, port), {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
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
  const deadline = Date.now() + launch.readyTimeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(500) })).ok) return { url, dir, stop };
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`${launch.name} on port ${port} did not become ready; its output:\n${output}`);
}
