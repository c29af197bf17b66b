/**
 * Ctrl-C in the middle of a run: the demo stops every server it started and removes its
 * temporary directories. The demo runs with its own TMPDIR, so "nothing left behind" is checked
 * exactly: that directory ends empty and no process mentions it.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { CLI } from "./demo-helpers.ts";

const root = mkdtempSync(join(tmpdir(), "llm-ab-interrupt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * Processes whose working directory or command line is under `dir`. The working directory
 * matters: redis-server rewrites its command line to `redis-server 127.0.0.1:<port>`, but the
 * supervisor starts every server inside its temporary directory.
 */
function processesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cwd.startsWith(dir) || args.includes(dir)) found.push(`${pid} ${args}`);
    } catch {
      // The process ended while we looked, or is not ours to inspect.
    }
  }
  return found;
}

it("an interrupted demo leaves no process and no temporary directory behind", async () => {
  const temp = join(root, "tmp");
  const out = join(root, "out");
  execFileSync("mkdir", ["-p", temp]);
  const child = spawn(
    process.execPath,
    [CLI, "demo", "--scenario", "winner", "--duration", "5m", "--out", out],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, TMPDIR: temp },
    },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  // Interrupt once the whole stack runs and traffic flows.
  const deadline = Date.now() + 90_000;
  while (!stderr.includes("sending traffic") && Date.now() < deadline && child.exitCode === null) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(stderr).toContain("sending traffic");
  await new Promise((resolve) => setTimeout(resolve, 3000));
  // Redis, Alertmanager and Prometheus run, each in its own directory under the demo's.
  expect(processesUnder(temp).length).toBeGreaterThanOrEqual(3);
  child.kill("SIGINT");
  const code = await exited;

  expect(code).toBe(130);
  expect(stderr).toMatch(/interrupted/);
  expect(processesUnder(temp)).toEqual([]);
  // tsx (which runs the CLI's TypeScript) keeps its compile cache in TMPDIR as `tsx-<uid>`, by
  // design and across runs; everything else there would be the demo's.
  expect(readdirSync(temp).filter((name) => !/^tsx-\d+$/.test(name))).toEqual([]);
});
