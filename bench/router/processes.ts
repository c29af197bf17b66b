/**
 * Child processes of bench/router: the upstream, the proxies under test and the load tools each
 * run in their own process, so the CPU time each one spends can be read from /proc and divided by
 * the requests it served.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

/** Clock ticks per second of /proc's utime/stime (USER_HZ, 100 on common Linux builds). */
const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** User + system CPU seconds of one process (all its threads), from /proc/<pid>/stat; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return 0;
  }
  // The command name (field 2) may hold spaces and parentheses, so count fields after its last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Pids whose parent is `pid` (nginx's workers under its master), found by scanning /proc. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === pid) children.push(Number(entry));
    } catch {
      // The process ended between readdir and read.
    }
  }
  return children;
}

/** A long-running child (server) the bench started and must stop. */
export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** Everything the child wrote to stderr, for error messages. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Spawns `command args`, keeping its stderr for error messages. `group`: in a process group of
 * its own, stopped as a group (a shell wrapping a tool would otherwise leave the tool running).
 */
export function spawnChild(name: string, command: string, args: readonly string[], group = false): Child {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], detached: group });
  let errText = "";
  child.on("error", (error) => {
    errText += `\n${error.message}`;
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${command}`);
  child.stderr?.on("data", (chunk: Buffer) => {
    errText = (errText + chunk.toString()).slice(-8000);
  });
  const exited = new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once("close", () => done());
  });
  return {
    name,
    process: child,
    pid,
    stderr: () => errText,
    async stop(graceMs = 5000) {
      const signal = (sig: NodeJS.Signals) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        try {
          if (group) process.kill(-pid, sig);
          else child.kill(sig);
        } catch {
          // Gone between the check and the kill.
        }
      };
      signal("SIGTERM");
      const timer = setTimeout(() => signal("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Spawns one of the bench's TypeScript entry points through tsx, like `npm run bench:router` runs this file. */
export function spawnTs(name: string, file: string, args: readonly string[]): Child {
  const runner = resolve("bin/run-ts.mjs");
  return spawnChild(name, process.execPath, [runner, resolve(file), ...args]);
}

/**
 * Waits for the child's first stdout line that parses as JSON and returns it: servers announce
 * `{ "url": ... }` when they listen, load tools print their result. Fails when the child exits
 * first or after `timeoutMs`, with its stderr.
 */
export function firstJsonLine<T>(child: Child, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolveLine, reject) => {
    const stdout = child.process.stdout;
    if (stdout === null) {
      reject(new Error(`${child.name}: no stdout`));
      return;
    }
    const lines = createInterface({ input: stdout });
    const fail = (why: string) => {
      cleanup();
      reject(new Error(`${child.name} ${why}\n${child.stderr().trim()}`));
    };
    // "close", not "exit": it comes after stdout has been read to the end.
    const onExit = (code: number | null, signal: string | null) =>
      fail(`exited (${signal ?? `code ${code}`}) before answering`);
    const timer = setTimeout(() => fail(`gave no answer within ${timeoutMs} ms`), timeoutMs);
    const onLine = (line: string) => {
      if (!line.startsWith("{")) return;
      cleanup();
      try {
        resolveLine(JSON.parse(line) as T);
      } catch (error) {
        reject(new Error(`${child.name} printed a bad JSON line: ${line}`, { cause: error }));
      }
    };
    function cleanup() {
      clearTimeout(timer);
      lines.off("line", onLine);
      child.process.off("close", onExit);
    }
    lines.on("line", onLine);
    child.process.once("close", onExit);
  });
}

/**
 * Makes a bench child exit when the bench does: on SIGTERM/SIGINT, and when its stdin (a pipe from
 * the bench) closes, which also covers a bench killed with SIGKILL.
 */
export function exitWithParent(onExit: () => Promise<void> | void): void {
  let exiting = false;
  const exit = () => {
    if (exiting) return;
    exiting = true;
    void Promise.resolve()
      .then(onExit)
      .finally(() => process.exit(0));
  };
  process.once("SIGTERM", exit);
  process.once("SIGINT", exit);
  process.stdin.on("end", exit);
  process.stdin.on("close", exit);
  process.stdin.resume();
}
