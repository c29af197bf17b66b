import { defineConfig } from "vitest/config";

/**
 * Two projects: `unit` (everything but the end-to-end demo runs, files in parallel) and `e2e`
 * (whole demo runs under test/e2e/, one file at a time). The demo's guardrails judge latencies
 * the router measures, so the e2e runs go one at a time after the rest: other work on the same
 * two cores would be measured as the variants' latency.
 */
export default defineConfig({
  test: {
    setupFiles: ["test/setup/fast-check.ts"],
    // Seeded simulations run a few thousand experiments each; give them room on 2 cores.
    testTimeout: 60_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/**/*.test.ts"], exclude: ["test/e2e/**"] },
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
