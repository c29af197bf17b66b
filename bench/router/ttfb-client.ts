/**
 * The time-to-first-byte load tool of bench/router: `--concurrency` streams kept open back to back
 * over keep-alive connections, each request timed from the moment its body is handed to the socket
 * to the first byte of the response body (the role event or first token, which comes after the
 * headers, so it covers both). Samples from the first `--warmup` seconds are dropped. Prints one
 * JSON line: counts, percentiles in milliseconds, and its own CPU time.
 *
 *   node bin/run-ts.mjs bench/router/ttfb-client.ts --url URL --seconds 10 --concurrency 32 --body JSON
 */
import { Agent, request } from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    path: { type: "string", default: "/v1/chat/completions" },
    body: { type: "string" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "1" },
    concurrency: { type: "string", default: "32" },
    units: { type: "string", default: "10000" },
    "unit-header": { type: "string", default: "x-llm-ab-unit" },
  },
});
if (values.url === undefined || values.body === undefined) throw new Error("--url and --body are required");
const target = new URL(values.url);
const body = Buffer.from(values.body);
const concurrency = Number(values.concurrency);
const units = Number(values.units);
const warmupMs = Number(values.warmup) * 1000;
const measureMs = Number(values.seconds) * 1000;
const unitHeader = values["unit-header"];
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

/** The result line this tool prints. */
export interface TtfbResult {
  readonly samples: number;
  readonly errors: number;
  readonly firstError?: string;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly cpuSeconds: number;
}

/** The q-quantile of sorted samples, nearest rank. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

const samples: number[] = [];
let errors = 0;
let firstError: string | undefined;
let counter = 0;

function fail(why: string): void {
  errors++;
  firstError ??= why;
}

/** One streamed request; resolves when its response has ended (or failed). */
function once(recording: boolean): Promise<void> {
  return new Promise<void>((done) => {
    // The ids wrk's first thread uses (unit-0-1 …), so the router already knows these units.
    const unit = `unit-0-${(counter++ % units) + 1}`;
    let started = 0;
    const call = request(
      {
        host: target.hostname,
        port: target.port,
        path: values.path,
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": body.length, [unitHeader]: unit },
      },
      (res) => {
        let first = true;
        let tail = "";
        res.on("data", (chunk: Buffer) => {
          if (first) {
            first = false;
            if (recording) samples.push(performance.now() - started);
          }
          tail = (tail + chunk.toString("latin1")).slice(-64);
        });
        res.on("end", () => {
          if (res.statusCode !== 200) fail(`HTTP ${res.statusCode}`);
          else if (!tail.includes("[DONE]")) fail("stream ended without [DONE]");
          done();
        });
        res.on("error", (error) => {
          fail(error.message);
          done();
        });
      },
    );
    call.on("error", (error) => {
      fail(error.message);
      done();
    });
    call.setTimeout(10_000, () => call.destroy(new Error("no answer for 10 s")));
    // end() writes the headers and body to the (kept-alive) socket: the clock starts here.
    started = performance.now();
    call.end(body);
  });
}

const start = performance.now();
const recordFrom = start + warmupMs;
const stopAt = recordFrom + measureMs;
async function stream(): Promise<void> {
  while (performance.now() < stopAt) await once(performance.now() >= recordFrom);
}
await Promise.all(Array.from({ length: concurrency }, () => stream()));
agent.destroy();

const sorted = Float64Array.from(samples).sort();
const cpu = process.cpuUsage();
const result: TtfbResult = {
  samples: sorted.length,
  errors,
  ...(firstError === undefined ? {} : { firstError }),
  p50Ms: quantile(sorted, 0.5),
  p90Ms: quantile(sorted, 0.9),
  p99Ms: quantile(sorted, 0.99),
  maxMs: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
};
console.log(JSON.stringify(result));
