/**
 * A real, throwaway redis-server: bound to 127.0.0.1 on a free port, nothing persisted, stoppable
 * and restartable on the same port (tests simulate an outage with it).
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createConnection } from "node:net";
import { checkBinary, freePort, releaseDir, spawnTracked, stopChild, tempDir } from "./server-process.ts";

/** A running Redis. */
export interface RunningRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops the server (SIGTERM), waits until it has exited and removes its directory. Idempotent. */
  stop(): Promise<void>;
  /** Stops it if running, starts it again on the same port (empty: nothing is persisted), waits for PING. */
  restart(): Promise<void>;
}

const BINARY = process.env.REDIS_SERVER ?? "redis-server";

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

/** Starts a redis-server; its directory goes under `parentDir` (default: the OS temp directory). */
export async function startRedis(parentDir?: string): Promise<RunningRedis> {
  checkBinary(BINARY, "Redis", "redis-server", "REDIS_SERVER");
  const port = await freePort();
  const dir = tempDir("llm-ab-redis-", parentDir);
  let child: ChildProcess | undefined;
  let output = "";

  const launch = async (): Promise<void> => {
    output = "";
    // `stop()` removes the directory; a restart after it needs it back.
    mkdirSync(dir, { recursive: true });
    const started = spawnTracked(
      BINARY,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
      dir,
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

  const halt = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running !== undefined) await stopChild(running);
  };

  try {
    await launch();
  } catch (error) {
    releaseDir(dir);
    throw error;
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      await halt();
      releaseDir(dir);
    },
    restart: async () => {
      await halt();
      await launch();
    },
  };
}
