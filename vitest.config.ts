import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup/fast-check.ts"],
    // Seeded simulations run a few thousand experiments each; give them room on 2 cores.
    testTimeout: 60_000,
    pool: "forks",
  },
});
