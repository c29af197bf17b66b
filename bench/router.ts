/**
 * bench/router: what the llm-ab router costs on the request path, side by side in one run.
 *
 * One local SSE upstream (bench/router/upstream.ts: `--tokens` tokens, no artificial delay, on
 * 127.0.0.1) is reached four ways, each proxy in its own process: directly; through a bare Node.js
 * pass-through (bench/router/passthrough.ts: `http` piping only, the ceiling for any Node proxy);
 * through nginx with one worker choosing an upstream group by a salted hash of the unit header
 * (`split_clients`, `proxy_buffering off`; bench/router/nginx.ts; skipped with a line saying so
 * when nginx is not installed); and through the router (`startRouter` from router/main.ts running
 * the example prompt-duel spec pointed at the upstream, writing its exposure records). Per
 * target, after a preflight request (status, every token, `[DONE]`) and an unmeasured wrk warm-up:
 *
 * - Throughput: wrk, `--connections` (32) connections for `--seconds` (10), POSTing a streaming
 *   chat request through a Lua script; the unit header cycles over `--units` ids per wrk thread,
 *   so after the warm-up every unit is known to the router (later turns of conversations).
 *   req/s, and CPU per request = CPU time of the proxy process (nginx: its workers) over the run
 *   ÷ requests, from /proc/<pid>/stat utime + stime; the upstream's and wrk's own CPU per request
 *   (wrk's read exactly by the `times` builtin of the shell that runs it) are shown beside it.
 * - Time to first byte: bench/router/ttfb-client.ts, a small Node client, keeps 32 streams open
 *   back to back for `--seconds` while the upstream paces tokens `--ttfb-itl-ms` (5) ms apart (a
 *   20-token answer lasts about 100 ms), timing each request to the first byte of its response
 *   body. Why not wrk's latency distribution: wrk times whole responses in a closed loop at full
 *   load, so its latency is queueing behind the slowest process of the chain (1/throughput in
 *   disguise) and says nothing about bytes a proxy holds back. Paced streams keep 32 streams
 *   concurrent without saturating the machine, which is how a router sees LLM traffic, so the
 *   difference to direct is the delay the proxy adds. Added p50/p99 = the target's percentile
 *   minus the mean of two direct phases, one first and one last; how far those two differ is
 *   printed as the noise floor. The proxy's CPU load during the phase is printed beside it: a
 *   busier event loop holds first bytes longer. p99 rests on ~30 samples per 10 s; use
 *   `--seconds 30` when it matters. `--ttfb-itl-ms 0` gives the saturated variant.
 * - In process, before any server starts: `Assigner.decide` with the memory store for known and
 *   new units, and `bucketOf` alone (bench/router/assign.ts).
 *
 * Reading the numbers on a 2-core machine: the upstream, the proxy under test and the load tool
 * share the two cores, so req/s is the throughput of the whole chain, not of the proxy alone.
 * Direct has one process fewer in the chain, so it is not a ceiling for the proxies (and with a
 * Node upstream at ~60-90 µs/req, nginx is bounded by the upstream too); compare proxies with
 * each other, the ratios, which all pay the same upstream and wrk. CPU per request of the proxy is
 * the steadier number: it barely depends on who else runs (a proxy at 100 µs/req could serve
 * ~10,000 req/s with a core to itself). When proxy + upstream + wrk µs/req, times req/s, comes to
 * about 2 CPU-seconds per second, the machine was saturated and req/s ≈ 2 s ÷ (sum of the three
 * columns); a proxy that costs more CPU per request also leaves less for the upstream and wrk.
 * Anything else running on the machine (check the load average printed first) moves all of it.
 * Exit status 1 when any target answered with errors (its numbers are void), else 0; missed
 * targets are printed as MISSED, not turned into a failure.
 *
 *   npm run bench:router -- [--seconds 10] [--connections 32] [--wrk-threads 2] [--tokens 20]
 *     [--units 10000] [--ttfb-itl-ms 5] [--warmup-seconds 2] [--nginx /usr/sbin/nginx]
 *     [--nginx-workers 1] [--targets direct,node,nginx,router]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadSpecFile } from "../spec/load.ts";
import { benchAssignment } from "./router/assign.ts";
import { NGINX_BINARY } from "./router/nginx.ts";
import { preflight } from "./router/preflight.ts";
import { type Child, cpuSeconds, firstJsonLine, spawnTs } from "./router/processes.ts";
import { LABELS, type Measured, printReport, type TargetName, targetNames } from "./router/report.ts";
import { startTarget, type Target } from "./router/targets.ts";
import type { TtfbResult } from "./router/ttfb-client.ts";
import { runWrk } from "./router/wrk.ts";

const loadBefore = loadavg()[0] ?? 0;
const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    "warmup-seconds": { type: "string", default: "2" },
    connections: { type: "string", default: "32" },
    "wrk-threads": { type: "string", default: "2" },
    tokens: { type: "string", default: "20" },
    units: { type: "string", default: "10000" },
    "ttfb-itl-ms": { type: "string", default: "5" },
    "nginx-workers": { type: "string", default: "1" },
    nginx: { type: "string", default: NGINX_BINARY },
    targets: { type: "string", default: targetNames.join(",") },
  },
});

function intOption(name: Exclude<keyof typeof values, "targets" | "nginx">, min: number): number {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`--${name} must be an integer ≥ ${min}, got ${String(values[name])}`);
  }
  return value;
}
const seconds = intOption("seconds", 1);
const warmupSeconds = intOption("warmup-seconds", 0);
const connections = intOption("connections", 1);
const wrkThreads = intOption("wrk-threads", 1);
const tokens = intOption("tokens", 1);
const units = intOption("units", 1);
const ttfbItlMs = intOption("ttfb-itl-ms", 0);
const nginxWorkers = intOption("nginx-workers", 1);
const wanted = new Set(values.targets.split(",").map((name) => name.trim()));
for (const name of wanted) {
  if (!(targetNames as readonly string[]).includes(name)) {
    throw new Error(
      `--targets: unknown target ${JSON.stringify(name)}; use some of ${targetNames.join(",")}`,
    );
  }
}

const SPEC_PATH = "examples/support-bot-policy-prompt.yaml";
const PATH = "/v1/chat/completions";
const UNIT_HEADER = "x-llm-ab-unit";
const BODY = JSON.stringify({
  model: "meta-llama/Llama-3.1-8B-Instruct",
  messages: [{ role: "user", content: "Where is my order #1234? It was due on Monday." }],
  stream: true,
  max_tokens: tokens,
});

const children = new Set<Child>();
function track(child: Child): Child {
  children.add(child);
  child.process.once("close", () => children.delete(child));
  return child;
}
let scratch: string | undefined;
/** Stops every child still running and removes the scratch directory. */
async function cleanUp(): Promise<void> {
  await Promise.all([...children].map((child) => child.stop()));
  if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
}
let interrupted = false;
// Ctrl-C or a kill: clean up before going (the finally at the end does it on errors).
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    interrupted = true;
    log(`${signal}: stopping the servers`);
    void cleanUp().finally(() => process.exit(130));
  });
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const sumCpu = (pids: readonly number[]) => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);

async function setPace(upstreamUrl: string, itlMs: number): Promise<void> {
  const answer = await fetch(`${upstreamUrl}/_bench/pace`, {
    method: "POST",
    body: JSON.stringify({ itlMs }),
  });
  if (!answer.ok) throw new Error(`upstream refused /_bench/pace: HTTP ${answer.status}`);
}

/** One time-to-first-byte phase against `url`, with the upstream pacing its tokens meanwhile. */
async function measureTtfb(url: string, upstreamUrl: string): Promise<TtfbResult> {
  await setPace(upstreamUrl, ttfbItlMs);
  try {
    const client = track(
      spawnTs("ttfb client", "bench/router/ttfb-client.ts", [
        ...["--url", url, "--path", PATH, "--body", BODY, "--seconds", String(seconds)],
        ...["--concurrency", String(connections), "--units", String(units), "--unit-header", UNIT_HEADER],
      ]),
    );
    const result = await firstJsonLine<TtfbResult>(client, (seconds + 60) * 1000);
    await client.stop();
    log(
      `  ttfb: ${result.samples} streams, p50 ${result.p50Ms.toFixed(3)} ms, p99 ${result.p99Ms.toFixed(3)} ms, errors ${result.errors}${result.firstError ? ` (${result.firstError})` : ""}`,
    );
    return result;
  } finally {
    await setPace(upstreamUrl, 0);
  }
}

/** Preflight, unmeasured warm-up, throughput with CPU per request, then time to first byte. */
async function measureTarget(
  name: TargetName,
  target: Target,
  upstream: { child: Child; url: string },
  dir: string,
): Promise<Measured> {
  const check = await preflight({ url: target.url, path: PATH, body: BODY, unitHeader: UNIT_HEADER, tokens });
  log(`${LABELS[name]}: ${target.url}, preflight ${check.summary}`);
  const wrkRun = (phaseSeconds: number) =>
    runWrk({
      url: `${target.url}${PATH}`,
      path: PATH,
      body: BODY,
      unitHeader: UNIT_HEADER,
      units,
      connections,
      threads: wrkThreads,
      seconds: phaseSeconds,
      dir,
      started: track,
    });
  if (warmupSeconds > 0) await wrkRun(warmupSeconds);
  const pids = target.cpuPids();
  const proxyBefore = sumCpu(pids);
  const upstreamBefore = cpuSeconds(upstream.child.pid);
  const wrk = await wrkRun(seconds);
  const proxyCpu = sumCpu(pids) - proxyBefore;
  const upstreamCpu = cpuSeconds(upstream.child.pid) - upstreamBefore;
  log(
    `  wrk: ${wrk.requests} requests in ${wrk.seconds.toFixed(1)} s, whole-response latency p50 ${wrk.latencyP50Ms.toFixed(2)} ms p99 ${wrk.latencyP99Ms.toFixed(2)} ms; errors: ${wrk.errorDetail}`,
  );
  // How busy the proxy was while streams were timed: delay grows with its event loop's load.
  const ttfbCpuBefore = sumCpu(pids);
  const ttfbStart = performance.now();
  const ttfb = await measureTtfb(target.url, upstream.url);
  const ttfbBusy = (sumCpu(pids) - ttfbCpuBefore) / ((performance.now() - ttfbStart) / 1000);
  return {
    name,
    wrk,
    reqPerSecond: wrk.requests / wrk.seconds,
    proxyUsPerRequest: pids.length === 0 ? undefined : (proxyCpu / wrk.requests) * 1e6,
    upstreamUsPerRequest: (upstreamCpu / wrk.requests) * 1e6,
    ttfb,
    ttfbProxyBusy: pids.length === 0 ? undefined : ttfbBusy,
  };
}

const dir = await mkdtemp(join(tmpdir(), "llm-ab-bench-router-"));
scratch = dir;
try {
  const spec = await loadSpecFile(SPEC_PATH);
  log(`assignment: Assigner.decide and bucketOf, ${seconds} s each ...`);
  // First, while no server runs: the in-process loops get a quiet machine.
  const assignment = await benchAssignment(spec, seconds);

  const child = track(spawnTs("upstream", "bench/router/upstream.ts", ["--tokens", String(tokens)]));
  const upstream = { child, url: (await firstJsonLine<{ url: string }>(child, 30_000)).url };
  log(`upstream: ${upstream.url}, ${tokens} tokens per answer`);
  const ctx = {
    upstreamUrl: upstream.url,
    dir,
    specPath: SPEC_PATH,
    unitHeader: UNIT_HEADER,
    nginxWorkers,
    nginxBinary: values.nginx,
    track,
  };
  const measured: Measured[] = [];
  let nginxSkipped: string | undefined;
  for (const name of targetNames) {
    if (!wanted.has(name)) continue;
    const target = await startTarget(name, ctx);
    if ("skipped" in target) {
      log(`${LABELS[name]}: skipped, ${target.skipped}`);
      if (name === "nginx") nginxSkipped = target.skipped;
      continue;
    }
    try {
      measured.push(await measureTarget(name, target, upstream, dir));
    } finally {
      await target.stop();
    }
  }
  // Direct again at the end: how far the baseline drifts over the run is the noise floor of "added".
  let directAgain: TtfbResult | undefined;
  if (wanted.has("direct") && measured.length > 1) {
    log("direct upstream, again:");
    directAgain = await measureTtfb(upstream.url, upstream.url);
  }
  const settings = { seconds, connections, wrkThreads, tokens, ttfbItlMs, loadBefore };
  if (!printReport(settings, { measured, directAgain, assignment, nginxSkipped })) process.exitCode = 1;
} catch (error) {
  // Stopped children make the phase in progress fail; that is the interrupt, not a finding.
  if (!interrupted) throw error;
} finally {
  await cleanUp();
}
