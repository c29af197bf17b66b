/**
 * A real, throwaway redis-server for tests: bound to 127.0.0.1 on a free port, nothing persisted,
 * stoppable and restartable on the same port to simulate an outage.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A running test Redis. */
export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops the server (SIGTERM) and waits until it has exited. Idempotent. */
  stop(): Promise<void>;
  /** Stops it if running, starts it again on the same port (empty: nothing is persisted), waits for PING. */
  restart(): Promise<void>;
}

const BINARY = process.env.REDIS_SERVER ?? "redis-server";

/** A port nothing listens on right now (the OS picks it; redis binds it a moment later). */
async function freePort(): Promise<number> {
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

/** Whether a PING on a fresh connection gets +PONG. */
async function answersPing(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

function checkBinary(): void {
  const probe = spawnSync(BINARY, ["--version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `cannot run ${BINARY} (${probe.error?.message ?? probe.stderr.trim()}): these tests need a real Redis; install it with \`apt-get install redis-server\` or set REDIS_SERVER to its path`,
    );
  }
}

/** Starts a redis-server for a test file; call `stop()` in afterAll. */
export async function startRedis(): Promise<TestRedis> {
  checkBinary();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "llm-ab-redis-"));
  let child: ChildProcess | undefined;
  let output = "";

  const launch = async (): Promise<void> => {
    output = "";
    // `stop()` removes the directory; a restart after it needs it back.
    mkdirSync(dir, { recursive: true });
    const started = spawn(
      BINARY,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child = started;
    started.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    started.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    // Redis starts in milliseconds; 10 s only guards against a machine under heavy load.
    for (let attempt = 0; attempt < 200; attempt++) {
      if (started.exitCode !== null) break;
      if (await answersPing(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    started.kill("SIGKILL");
    throw new Error(`redis-server on port ${port} did not answer PING; its output:\n${output}`);
  };

  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once("exit", () => resolve());
      running.kill("SIGTERM");
    });
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stop();
      await launch();
    },
  };
}
