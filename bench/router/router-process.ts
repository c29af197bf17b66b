/**
 * The llm-ab router as bench/router runs it, in its own process: `startRouter` from
 * router/main.ts with the given spec, its one deployment pointed at the bench upstream, writing
 * exposure records to an event log as a deployed router does (`--no-events` to leave them out).
 * Logs at `LOG_LEVEL` (default warn: a log line per request would be measured too). Prints
 * `{"url": ..., "adminUrl": ...}` once listening; stops gracefully (drain, flush) with the bench.
 *
 *   node bin/run-ts.mjs bench/router/router-process.ts --upstream URL --spec FILE --dir DIR
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { createRouterLogger, startRouter } from "../../router/main.ts";
import { exitWithParent } from "./processes.ts";

const { values } = parseArgs({
  options: {
    upstream: { type: "string" },
    spec: { type: "string" },
    dir: { type: "string" },
    "no-events": { type: "boolean", default: false },
  },
});
if (values.upstream === undefined || values.spec === undefined || values.dir === undefined) {
  throw new Error("--upstream <url>, --spec <file> and --dir <scratch dir> are required");
}

// The example's deployments get the bench upstream as their only replica; everything else
// (split, prompts, params, unit sources, memory store) stays as the example has it.
const spec = parse(await readFile(values.spec, "utf8")) as {
  deployments: Record<string, { endpoints?: string[] }>;
};
for (const deployment of Object.values(spec.deployments)) deployment.endpoints = [values.upstream];
await mkdir(values.dir, { recursive: true });
const specPath = join(values.dir, "spec.json");
await writeFile(specPath, JSON.stringify(spec, null, 2));

const router = await startRouter({
  specPath,
  port: 0,
  adminPort: 0,
  logger: createRouterLogger(process.env.LOG_LEVEL ?? "warn"),
  ...(values["no-events"] ? {} : { eventsPath: join(values.dir, "events.jsonl") }),
});
console.log(JSON.stringify({ url: router.proxyUrl, adminUrl: router.adminUrl }));
exitWithParent(() => router.stop());
