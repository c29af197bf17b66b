/**
 * Starting the targets of bench/router, each proxy in its own process: the upstream itself
 * (direct), the bare Node pass-through, nginx, and the llm-ab router.
 */
import { join } from "node:path";
import { findNginx, startNginx } from "./nginx.ts";
import { freePort } from "./preflight.ts";
import { type Child, firstJsonLine, spawnTs } from "./processes.ts";
import type { TargetName } from "./report.ts";

/** A proxy (or the upstream itself) under test. */
export interface Target {
  readonly url: string;
  /** Processes whose CPU time is the proxy's (nginx: its workers); empty for direct. */
  readonly cpuPids: () => number[];
  readonly stop: () => Promise<void>;
}

/** What starting a target needs. */
export interface TargetContext {
  readonly upstreamUrl: string;
  /** Scratch directory of the run. */
  readonly dir: string;
  /** Spec the router runs, pointed at the upstream by router-process.ts. */
  readonly specPath: string;
  readonly unitHeader: string;
  readonly nginxWorkers: number;
  /** nginx binary; absent or missing → nginx is skipped. */
  readonly nginxBinary: string;
  /** Registers a child so the bench stops it whatever happens. */
  readonly track: (child: Child) => Child;
}

/** Starts `name`; returns why it was skipped instead when it cannot run here (nginx not installed). */
export async function startTarget(
  name: TargetName,
  ctx: TargetContext,
): Promise<Target | { skipped: string }> {
  switch (name) {
    case "direct":
      return { url: ctx.upstreamUrl, cpuPids: () => [], stop: async () => {} };
    case "node": {
      const child = ctx.track(
        spawnTs("node pass-through", "bench/router/passthrough.ts", ["--upstream", ctx.upstreamUrl]),
      );
      const { url } = await firstJsonLine<{ url: string }>(child, 30_000);
      return { url, cpuPids: () => [child.pid], stop: () => child.stop() };
    }
    case "nginx": {
      const binary = findNginx(ctx.nginxBinary);
      if (binary === undefined) {
        return {
          skipped: `${ctx.nginxBinary} not found: nginx is not installed (apt-get install nginx-light)`,
        };
      }
      const nginx = await startNginx({
        binary,
        dir: join(ctx.dir, "nginx"),
        port: await freePort(),
        upstreamPort: Number(new URL(ctx.upstreamUrl).port),
        workers: ctx.nginxWorkers,
        unitHeader: ctx.unitHeader,
      });
      ctx.track(nginx.child);
      return { url: nginx.url, cpuPids: nginx.workerPids, stop: () => nginx.child.stop() };
    }
    case "router": {
      const child = ctx.track(
        spawnTs("llm-ab router", "bench/router/router-process.ts", [
          "--upstream",
          ctx.upstreamUrl,
          "--spec",
          ctx.specPath,
          "--dir",
          join(ctx.dir, "router"),
        ]),
      );
      const { url } = await firstJsonLine<{ url: string }>(child, 60_000);
      // The router drains in-flight streams on stop; none are left when a phase has ended.
      return { url, cpuPids: () => [child.pid], stop: () => child.stop(30_000) };
    }
  }
}
