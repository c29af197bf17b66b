/**
 * `llm-ab router --spec <file>`: runs the router until SIGTERM or SIGINT (graceful: streams in
 * flight finish, records are flushed), reloading the spec when the file changes or on SIGHUP.
 */
import { readFile } from "node:fs/promises";
import { type Command, InvalidArgumentError } from "commander";
import { startRouter } from "../router/main.ts";
import { SpecError } from "../spec/errors.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./main.ts";

/** Commander parser for a TCP port (0 picks a free one). */
export function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    throw new InvalidArgumentError(`expected a port number 0–65535, got "${value}"`);
  }
  return n;
}

/** The admin token: from `--admin-token-file` (trimmed), else `LLM_AB_ADMIN_TOKEN`, else none. */
export async function adminToken(file: string | undefined, env = process.env): Promise<string | undefined> {
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new CliError(`--admin-token-file ${file}: cannot read it (${code})`);
    }
    const token = text.trim();
    if (token === "")
      throw new CliError(`--admin-token-file ${file}: the file is empty; put the token in it`);
    return token;
  }
  const fromEnv = env.LLM_AB_ADMIN_TOKEN?.trim();
  return fromEnv === "" ? undefined : fromEnv;
}

interface RouterFlags {
  spec: string;
  host: string;
  port: number;
  adminHost?: string;
  adminPort: number;
  events?: string;
  shadowLog?: string;
  adminTokenFile?: string;
}

export function registerRouter(program: Command, _io: CliIo): void {
  program
    .command("router")
    .description("Run the router: pins units to variants, proxies OpenAI requests, measures and records them")
    .requiredOption("--spec <file>", "experiment spec (.yaml, .yml or .json); watched and reloaded on change")
    .option("--host <address>", "address of the proxy port", "127.0.0.1")
    .option("--port <port>", "proxy port (OpenAI-compatible API, POST /v1/outcomes)", portNumber, 8080)
    .option("--admin-host <address>", "address of the admin port (default: --host)")
    .option("--admin-port <port>", "admin port (/metrics, /healthz, /readyz, admin API)", portNumber, 8081)
    .option("--events <path>", "append exposure and outcome records to this JSON-lines file")
    .option(
      "--shadow-log <path>",
      "append shadow-mode records here (default: spec router.shadowLogPath, else --events)",
    )
    .option("--admin-token-file <path>", "file holding the admin bearer token (else env LLM_AB_ADMIN_TOKEN)")
    .addHelpText(
      "after",
      `
Environment:
  LLM_AB_ADMIN_TOKEN   admin bearer token when --admin-token-file is not given
  LLM_AB_REPLICA_DNS   headless Service of deployments without endpoints, e.g.
                       {experiment}-{deployment}.llm-ab.svc.cluster.local:8000
  LOG_LEVEL            pino level of the JSON log on stderr (default info)
Signals: SIGTERM/SIGINT stop gracefully (in-flight streams finish, up to 25 s); SIGHUP reloads the spec.`,
    )
    .action(async (flags: RouterFlags) => {
      const token = await adminToken(flags.adminTokenFile);
      let router: Awaited<ReturnType<typeof startRouter>>;
      try {
        router = await startRouter({
          specPath: flags.spec,
          host: flags.host,
          port: flags.port,
          adminPort: flags.adminPort,
          handleSignals: true,
          ...(flags.adminHost === undefined ? {} : { adminHost: flags.adminHost }),
          ...(flags.events === undefined ? {} : { eventsPath: flags.events }),
          ...(flags.shadowLog === undefined ? {} : { shadowLogPath: flags.shadowLog }),
          ...(token === undefined ? {} : { adminToken: token }),
          ...(process.env.LLM_AB_REPLICA_DNS ? { replicaDns: process.env.LLM_AB_REPLICA_DNS } : {}),
        });
      } catch (error) {
        if (error instanceof SpecError) {
          throw new CliError(`${error.message}\n(run \`llm-ab validate ${flags.spec}\` after fixing)`);
        }
        if (error instanceof Error) throw new CliError(`llm-ab router: ${error.message}`);
        throw error;
      }
      await router.closed;
    });
}
