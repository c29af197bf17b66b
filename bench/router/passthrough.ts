/**
 * The bare Node.js pass-through of bench/router: `http` piping and nothing else (no parsing, no
 * header filtering, no timing), over a keep-alive agent like the router's upstream pool. No Node
 * proxy can beat it, so it is the ceiling the router is compared with.
 *
 *   node bin/run-ts.mjs bench/router/passthrough.ts --upstream http://127.0.0.1:PORT
 */
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { exitWithParent } from "./processes.ts";

const { values } = parseArgs({ options: { upstream: { type: "string" } } });
if (values.upstream === undefined) throw new Error("--upstream <url> is required");
const upstream = new URL(values.upstream);
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

const server = createServer((req, res) => {
  const call = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      path: req.url,
      method: req.method,
      headers: req.headers,
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  call.on("error", () => res.destroy());
  res.on("close", () => {
    if (!res.writableFinished) call.destroy(); // the client left: stop the upstream stream too
  });
  req.pipe(call);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));
});
exitWithParent(
  () =>
    new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
      agent.destroy();
    }),
);
