/**
 * A real Prometheus (Debian's `prometheus`): a given configuration and rule files, 127.0.0.1 on a
 * free port, its TSDB in a temporary directory; instant and range queries against it.
 */
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkBinary, startServerProcess } from "./server-process.ts";

/** One series of an instant query's vector result. */
export interface Sample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

/** One series of a range query's matrix result. */
export interface RangeSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly (readonly [number, string])[];
}

/** What an instant query returned: a vector's series, or one scalar sample. */
export type QueryResult =
  | { readonly ok: true; readonly resultType: string; readonly series: readonly Sample[] }
  | { readonly ok: false; readonly error: string };

/** A running Prometheus. */
export interface RunningPrometheus {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Directory holding the configuration and rule files. */
  readonly dir: string;
  /** `GET /api/v1/query` now; a PromQL error is returned, not thrown. */
  query(expr: string): Promise<QueryResult>;
  /** `GET /api/v1/query_range` over [start, end] (epoch seconds) every `step` seconds; throws on error. */
  queryRange(expr: string, start: number, end: number, step: number): Promise<readonly RangeSeries[]>;
  /** Writes `files` (name → text) beside the configuration and makes Prometheus reload it; throws if refused. */
  reload(files: Readonly<Record<string, string>>): Promise<void>;
  /** Stops the server (SIGTERM), waits for it to exit and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

interface ApiAnswer<T> {
  status: string;
  error?: string;
  data?: { resultType: string; result: T };
}

const BINARY = process.env.PROMETHEUS ?? "prometheus";

/**
 * Starts Prometheus with `config` written as `prometheus.yml` beside `files` (rule files, file_sd
 * target lists), its directory under `parentDir` (default: the OS temp directory).
 */
export async function startPrometheus(
  config: string,
  files: Readonly<Record<string, string>> = {},
  parentDir?: string,
): Promise<RunningPrometheus> {
  checkBinary(BINARY, "Prometheus", "prometheus", "PROMETHEUS");
  const { url, dir, stop } = await startServerProcess({
    binary: BINARY,
    name: "Prometheus",
    prefix: "llm-ab-prometheus-",
    ...(parentDir === undefined ? {} : { parentDir }),
    files: { ...files, "prometheus.yml": config },
    args: (dir, port) => [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // POST /-/reload, for `reload()`.
      "--web.enable-lifecycle",
    ],
    // Prometheus is ready in a second or two; 30 s only guards against a loaded machine.
    readyTimeoutMs: 30_000,
  });

  const get = async <T>(path: string, params: Record<string, string>): Promise<ApiAnswer<T>> => {
    const response = await fetch(`${url}${path}?${new URLSearchParams(params)}`);
    return (await response.json()) as ApiAnswer<T>;
  };

  const query = async (expr: string): Promise<QueryResult> => {
    const body = await get<Sample[] | [number, string]>("/api/v1/query", { query: expr });
    if (body.status !== "success" || body.data === undefined) {
      return { ok: false, error: body.error ?? "no data in the answer" };
    }
    const { resultType, result } = body.data;
    const series = resultType === "vector" || resultType === "matrix" ? (result as Sample[]) : [];
    const scalar = resultType === "scalar" ? [{ metric: {}, value: result as [number, string] }] : [];
    return { ok: true, resultType, series: [...series, ...scalar] };
  };

  const queryRange = async (expr: string, start: number, end: number, step: number) => {
    const body = await get<RangeSeries[]>("/api/v1/query_range", {
      query: expr,
      start: String(start),
      end: String(end),
      step: String(step),
    });
    if (body.status !== "success" || body.data === undefined) {
      throw new Error(`Prometheus refused the range query ${expr}: ${body.error ?? "no data"}`);
    }
    return body.data.result;
  };

  const reload = async (files: Readonly<Record<string, string>>) => {
    for (const [name, text] of Object.entries(files)) {
      writeFileSync(join(dir, `${name}.tmp`), text);
      renameSync(join(dir, `${name}.tmp`), join(dir, name));
    }
    const response = await fetch(`${url}/-/reload`, { method: "POST" });
    if (!response.ok)
      throw new Error(`Prometheus refused to reload (${response.status}): ${await response.text()}`);
  };

  return { url, dir, query, queryRange, reload, stop };
}
