import { defineConfig } from "vitest/config";

/**
 * Three projects:
 * - `unit`: everything but the Pulumi programs and the demo runs, files in parallel, sharing one
 *   module graph per worker (`isolate: false`): importing DuckDB, prom-client, zod schemas and the
 *   rest once per worker instead of once per file halves the run (import time 100 s → 9 s).
 * - `pulumi`: tests that run Pulumi programs under `pulumi.runtime.setMocks`, whose runtime state
 *   is global to the module, so each file keeps its own modules (isolated; shuffling them into a
 *   shared graph made one file's mocks see another's resources).
 * - `e2e`: whole demo runs under test/e2e/, one file at a time, after the rest. The demo's
 *   guardrails judge latencies the router measures: other work on the same two cores would be
 *   measured as the variants' latency.
 */
const pulumiTests = [
  "test/components/**/*.test.ts",
  "test/stacks/**/*.test.ts",
  "test/cli/render.test.ts",
  "test/arena/run.test.ts",
];
export default defineConfig({
  test: {
    setupFiles: ["test/setup/fast-check.ts"],
    // Seeded simulations run a few thousand experiments each; give them room on 2 cores.
    testTimeout: 60_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/e2e/**", ...pulumiTests],
          isolate: false,
        },
      },
      {
        extends: true,
        test: { name: "pulumi", include: pulumiTests },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          fileParallelism: false,
          // A demo run lasts up to a minute and a half, with setup and analysis.
          testTimeout: 240_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
