/**
 * nginx for bench/router: the same job as the router's proxy path reduced to what nginx does
 * natively — a salted hash of the unit header picks one of two upstream groups (`split_clients`,
 * 10 % treatment like the example spec), the variant goes back in a header, and the SSE stream is
 * passed through unbuffered over keep-alive upstream connections.
 */
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Child, childPids, spawnChild } from "./processes.ts";

/** Where Debian's nginx-light installs the binary (outside a normal user's PATH). */
export const NGINX_BINARY = "/usr/sbin/nginx";

/** `binary` when it exists, else undefined: nginx is not installed here. */
export function findNginx(binary = NGINX_BINARY): string | undefined {
  return existsSync(binary) ? binary : undefined;
}

/** Settings of the nginx under test. */
export interface NginxOptions {
  readonly binary: string;
  /** Scratch directory for the config, pid file, logs and temp paths. */
  readonly dir: string;
  readonly port: number;
  readonly upstreamPort: number;
  /**
   * Worker processes. Default 1: one event loop, like the one Node process of the router and the
   * pass-through, so req/s and CPU per request compare like with like.
   */
  readonly workers?: number;
  /** Header holding the unit id; default x-llm-ab-unit. */
  readonly unitHeader?: string;
}

/** The nginx.conf of the bench: no logs, no buffering, keep-alive on both sides. */
export function nginxConfig(options: NginxOptions): string {
  const header = (options.unitHeader ?? "x-llm-ab-unit").toLowerCase().replaceAll("-", "_");
  const upstreamServer = `server 127.0.0.1:${options.upstreamPort};`;
  return `daemon off;
master_process on;
worker_processes ${options.workers ?? 1};
pid ${join(options.dir, "nginx.pid")};
error_log ${join(options.dir, "error.log")} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(options.dir, "client_body")};
  proxy_temp_path ${join(options.dir, "proxy")};
  fastcgi_temp_path ${join(options.dir, "fastcgi")};
  uwsgi_temp_path ${join(options.dir, "uwsgi")};
  scgi_temp_path ${join(options.dir, "scgi")};
  keepalive_requests 1000000;
  # The unit's variant from a salted MurmurHash2 of its header, like the router's salted bucket.
  split_clients "bench-salt:$http_${header}" $variant {
    10% treatment;
    * control;
  }
  upstream control { ${upstreamServer} keepalive 64; keepalive_requests 1000000; }
  upstream treatment { ${upstreamServer} keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${options.port};
    location / {
      proxy_pass http://$variant;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      add_header x-llm-ab-variant $variant always;
    }
  }
}
`;
}

/** A running nginx: its master process, and the workers whose CPU time is the proxy's. */
export interface RunningNginx {
  readonly child: Child;
  readonly url: string;
  workerPids(): number[];
}

/** Writes the config and starts nginx in the foreground (`daemon off`), so the bench owns the master. */
export async function startNginx(options: NginxOptions): Promise<RunningNginx> {
  await mkdir(options.dir, { recursive: true });
  const conf = join(options.dir, "nginx.conf");
  await writeFile(conf, nginxConfig(options));
  // -e: the startup error log, before the config's error_log applies (Debian's default is /var/log).
  const child = spawnChild("nginx", options.binary, [
    "-p",
    options.dir,
    "-c",
    conf,
    "-e",
    join(options.dir, "error.log"),
  ]);
  return { child, url: `http://127.0.0.1:${options.port}`, workerPids: () => childPids(child.pid) };
}
