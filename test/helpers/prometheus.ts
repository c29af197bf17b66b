/**
 * A real, throwaway Prometheus (Debian's `prometheus`) for tests: a given configuration and rule
 * files, 127.0.0.1 on a free port, its TSDB in a temp directory; and instant queries against it.
 */
import { join } from "node:path";
import { checkBinary, startServerProcess } from "./server-process.ts";

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

export async function startPrometheus(
  config: string,
  files: Readonly<Record<string, string>> = {},
): Promise<TestPrometheus> {
  checkBinary(BINARY, "Prometheus", "prometheus", "PROMETHEUS");
  const { url, dir, stop } = await startServerProcess({
    binary: BINARY,
    name: "Prometheus",
    prefix: "llm-ab-prometheus-",
    files: { ...files, "prometheus.yml": config },
    args: (dir, port) => [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    // Prometheus is ready in a second or two; 30 s only guards against a loaded machine.
    readyTimeoutMs: 30_000,
  });

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

  return { url, dir, query, stop };
}
