/**
 * The lifecycle every real server of the local stack shares (Prometheus, Alertmanager, Redis):
 * check the Debian binary is there, configure it in a temporary directory, bind 127.0.0.1 on a
 * free port, wait until it answers, and stop it (SIGTERM, wait for exit, remove the directory).
 *
 * Every child is also kept in a process-wide registry: if this process exits without stopping
 * them (an uncaught error, `process.exit`), an `exit` hook kills them with SIGKILL and removes
 * their directories synchronously, so nothing is left running or lying in /tmp.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Thrown when a server's binary is missing: names the Debian package to install. */
export class MissingBinaryError extends Error {
  constructor(
    readonly binary: string,
    readonly debianPackage: string,
    message: string,
  ) {
    super(message);
    this.name = "MissingBinaryError";
  }
}

/** Throws {@link MissingBinaryError}, naming the Debian package to install, when `binary` cannot run. */
export function checkBinary(binary: string, what: string, debianPackage: string, envVar: string): void {
  const probe = spawnSync(binary, ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new MissingBinaryError(
      binary,
      debianPackage,
      `cannot run ${binary} (${probe.error?.message ?? probe.stderr.trim()}): a real ${what} is needed; install the Debian package with \`apt-get install ${debianPackage}\` or set ${envVar} to its path`,
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

/** Children and directories not yet cleaned up, for the exit hook. */
const live = new Map<ChildProcess, string | undefined>();
const liveDirs = new Set<string>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const child of live.keys()) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** A temporary directory removed at process exit unless {@link releaseDir} removed it first. */
export function tempDir(prefix: string, parent = tmpdir()): string {
  hookExit();
  const dir = mkdtempSync(join(parent, prefix));
  liveDirs.add(dir);
  return dir;
}

/** Removes a directory made by {@link tempDir}. */
export function releaseDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveDirs.delete(dir);
}

/** A child process that is SIGKILLed if this process exits while it still runs. */
export function spawnTracked(binary: string, args: readonly string[], cwd?: string): ChildProcess {
  hookExit();
  const child = spawn(binary, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  live.set(child, cwd);
  child.once("exit", () => live.delete(child));
  // A missing binary is reported by the caller's readiness wait; the event must not crash us.
  child.once("error", () => live.delete(child));
  return child;
}

/** Stops a child: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** What the server printed so far (for error messages). */
  output(): string;
  /** Stops the server (SIGTERM), waits for it to exit and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

export interface ServerLaunch {
  binary: string;
  /** Names the server in errors, e.g. "Prometheus". */
  name: string;
  /** Temp directory prefix. */
  prefix: string;
  /** Where the temp directory goes. Default: the OS temp directory. */
  parentDir?: string;
  /** Files to write into the directory first (name → text). */
  files: Readonly<Record<string, string>>;
  /** Arguments, given the directory and the port. */
  args: (dir: string, port: number) => string[];
  /** How long readiness may take on a loaded machine. */
  readyTimeoutMs: number;
  /** Whether the server answers; default `GET /-/ready` is 200. */
  ready?: (url: string, port: number) => Promise<boolean>;
}

async function httpReady(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(500) })).ok;
  } catch {
    return false; // Not listening yet.
  }
}

/** Starts the server and resolves once it is ready; on failure, throws with its output. */
export async function startServerProcess(launch: ServerLaunch): Promise<ServerProcess> {
  const dir = tempDir(launch.prefix, launch.parentDir);
  for (const [name, text] of Object.entries(launch.files)) writeFileSync(join(dir, name), text);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = "";
  const child = spawnTracked(launch.binary, launch.args(dir, port), dir);
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await stopChild(child);
      releaseDir(dir);
    })();
    return stopping;
  };
  const ready = launch.ready ?? httpReady;
  const deadline = Date.now() + launch.readyTimeoutMs;
  while (Date.now() < deadline && child.exitCode === null) {
    if (await ready(url, port)) return { url, port, dir, output: () => output, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`${launch.name} on port ${port} did not become ready; its output:\n${output}`);
}
