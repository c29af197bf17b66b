/**
 * Starting and stopping a router: the only module that listens. `startRouter` loads the spec,
 * builds the context, serves the proxy port and the admin port, watches the spec file, and returns
 * a handle whose `stop()` shuts down gracefully:
 *
 * 1. `/readyz` turns 503 and new answers carry `Connection: close`; the proxy port stops accepting;
 * 2. requests in flight (streams included, and shadow mirrors) finish, up to the deadline
 *    (default 25 s, inside Kubernetes' default 30 s grace period); past it their connections are
 *    cut, which aborts the upstream calls and still records them;
 * 3. the event and shadow logs are flushed and closed, Redis is closed, the admin port closes.
 *
 * Signal handlers (SIGTERM/SIGINT → stop, SIGHUP → reload) are installed only when asked
 * (`handleSignals`, which the CLI sets): a library caller, a test or the bench owns its process.
 */
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Logger, pino } from "pino";
import { loadSpecFile } from "../spec/load.ts";
import { createAdminApp } from "./admin.ts";
import { createApp } from "./app.ts";
import { RouterContext, type RouterContextOptions } from "./context.ts";
import { replicaDnsTemplate } from "./runtime.ts";
import { SpecWatcher } from "./spec-watch.ts";

/** Options of {@link startRouter}. */
export interface StartRouterOptions {
  /** The experiment spec file (.yaml, .yml, .json); watched for changes unless `watch` is false. */
  readonly specPath: string;
  /** Address of the proxy port. Default 127.0.0.1 (a sidecar next to the application). */
  readonly host?: string;
  /** Proxy port. Default 8080; 0 picks a free port (see `proxyUrl`). */
  readonly port?: number;
  /** Address of the admin port. Default: `host`. */
  readonly adminHost?: string;
  /** Admin port. Default 8081; 0 picks a free port (see `adminUrl`). */
  readonly adminPort?: number;
  /** JSON-lines event log (exposures, outcomes). Absent: not kept. */
  readonly eventsPath?: string;
  /** Shadow log. Default: the spec's router.shadowLogPath, else the event log. */
  readonly shadowLogPath?: string;
  /** Admin bearer token. Absent: the admin API refuses protected calls, saying how to set one. */
  readonly adminToken?: string;
  /**
   * For deployments without `endpoints`: their headless Service as `host:port`, with
   * `{experiment}` and `{deployment}` replaced (see `replicaDnsTemplate`). Absent: endpoints required.
   */
  readonly replicaDns?: string;
  /** Default: JSON lines on stderr at `LOG_LEVEL` (default info). */
  readonly logger?: Logger;
  /** How long in-flight requests may take to finish on stop, ms. Default 25,000. */
  readonly shutdownDeadlineMs?: number;
  /** Watch the spec file and apply valid changes. Default true. */
  readonly watch?: boolean;
  /** Install SIGTERM/SIGINT (stop) and SIGHUP (reload) handlers. Default false; the CLI sets it. */
  readonly handleSignals?: boolean;
  /** Passed to the context: state poll interval, body limit, upstream limits, clocks (tests). */
  readonly context?: Omit<
    RouterContextOptions,
    "spec" | "logger" | "eventsPath" | "shadowLogPath" | "adminToken" | "replicaDns"
  >;
}

/** A running router. */
export interface RunningRouter {
  /** e.g. `http://127.0.0.1:8080`: point the application's OpenAI base URL at `${proxyUrl}/v1`. */
  readonly proxyUrl: string;
  /** e.g. `http://127.0.0.1:8081`. */
  readonly adminUrl: string;
  /** Everything the handlers use (metrics, state, runtime), for tests and the bench. */
  readonly context: RouterContext;
  /** Graceful shutdown (see the module comment). Idempotent. */
  stop(): Promise<void>;
  /** Reads the spec file now; true when it is in force, false when rejected (the old one stays). */
  reload(): Promise<boolean>;
  /** Resolves once the router has stopped (by `stop()` or a signal). */
  readonly closed: Promise<void>;
}

/** The router's logger: pino JSON lines on stderr, level from `LOG_LEVEL` (default info). */
export function createRouterLogger(level = process.env.LOG_LEVEL ?? "info"): Logger {
  if (!(level in pino.levels.values) && level !== "silent") {
    throw new Error(
      `LOG_LEVEL must be one of ${Object.keys(pino.levels.values).join(", ")} or silent, got ${JSON.stringify(level)}`,
    );
  }
  return pino({ level, base: { service: "llm-ab-router" } }, pino.destination({ fd: 2, sync: true }));
}

async function listen(handler: RequestListener, host: string, port: number, what: string): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          `cannot listen on ${host}:${port} for the ${what}: ${error.message}; pick another --${what === "proxy port" ? "port" : "admin-port"}`,
        ),
      );
    });
    server.listen(port, host, () => resolve());
  });
  return server;
}

function urlOf(server: Server, host: string): string {
  const { port } = server.address() as AddressInfo;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Loads the spec, starts both ports and the spec watcher; see {@link RunningRouter}. */
export async function startRouter(options: StartRouterOptions): Promise<RunningRouter> {
  const logger = options.logger ?? createRouterLogger();
  const spec = await loadSpecFile(options.specPath);
  const host = options.host ?? "127.0.0.1";
  const adminHost = options.adminHost ?? host;
  const ctx = await RouterContext.create({
    ...options.context,
    spec,
    logger,
    ...(options.eventsPath === undefined ? {} : { eventsPath: options.eventsPath }),
    ...(options.shadowLogPath === undefined ? {} : { shadowLogPath: options.shadowLogPath }),
    ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }),
    ...(options.replicaDns === undefined
      ? {}
      : { replicaDns: replicaDnsTemplate(options.replicaDns, spec.name) }),
  });
  let proxy: Server;
  let admin: Server;
  try {
    proxy = await listen(createApp(ctx), host, options.port ?? 8080, "proxy port");
    try {
      admin = await listen(createAdminApp(ctx), adminHost, options.adminPort ?? 8081, "admin port");
    } catch (error) {
      await closeServer(proxy);
      throw error;
    }
  } catch (error) {
    await ctx.close();
    throw error;
  }
  const watcher = new SpecWatcher({ path: options.specPath, apply: (next) => ctx.applySpec(next), logger });
  if (options.watch ?? true) watcher.start();
  if (ctx.adminToken === undefined) {
    logger.warn(
      "no admin token: pause/resume/rollback and the Alertmanager webhook are refused (set LLM_AB_ADMIN_TOKEN)",
    );
  }
  if (
    spec.rollout.mode === "shadow" &&
    ctx.shadowRecords === ctx.records &&
    options.eventsPath === undefined
  ) {
    logger.warn("shadow mode without a shadow log: mirrored answers are not kept (pass --shadow-log)");
  }

  const deadlineMs = options.shutdownDeadlineMs ?? 25_000;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let stopping: Promise<void> | undefined;
  const signals: [NodeJS.Signals, () => void][] = [];

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // With the handlers gone, a second SIGTERM or Ctrl-C ends the process at once.
      for (const [signal, handler] of signals) process.off(signal, handler);
      ctx.draining = true;
      watcher.stop();
      logger.info(
        { inFlight: ctx.inFlight.size, deadlineMs },
        "router stopping: finishing requests in flight",
      );
      const proxyClosed = closeServer(proxy);
      proxy.closeIdleConnections();
      if (!(await ctx.inFlight.idle(deadlineMs))) {
        logger.warn(
          { inFlight: ctx.inFlight.size },
          "shutdown deadline passed: cutting the remaining requests",
        );
        proxy.closeAllConnections();
        // Cut requests end promptly (their upstream calls are aborted) and still write their records.
        await ctx.inFlight.idle(5_000);
      }
      proxy.closeAllConnections();
      await proxyClosed;
      await ctx.close();
      admin.closeAllConnections();
      await closeServer(admin);
      logger.info("router stopped: records flushed, store closed");
      resolveClosed();
    })();
    return stopping;
  };

  if (options.handleSignals ?? false) {
    const onStop = () => void stop();
    const onReload = () => void watcher.reload();
    signals.push(["SIGTERM", onStop], ["SIGINT", onStop], ["SIGHUP", onReload]);
    for (const [signal, handler] of signals) process.on(signal, handler);
  }

  const proxyUrl = urlOf(proxy, host);
  const adminUrl = urlOf(admin, adminHost);
  logger.info(
    {
      experiment: spec.name,
      proxyUrl,
      adminUrl,
      mode: spec.rollout.mode,
      treatmentPercent: spec.rollout.treatmentPercent,
    },
    "router listening",
  );
  return { proxyUrl, adminUrl, context: ctx, stop, reload: () => watcher.reload(), closed };
}
