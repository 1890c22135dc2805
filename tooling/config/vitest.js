// The one Vitest preset of the repo. Every package's vitest.config.ts calls packageTestConfig().
// Each run writes test-results/vitest.json, which .ci/run adds up into its "N passed, M failed" line.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/**
 * @param {{ testTimeout?: number }} [options]
 */
export function packageTestConfig(options = {}) {
  return defineConfig({
    test: {
      // Tests live in <package>/test/ only (docs/ARCHITECTURE.md, "Tests"): a *.test.ts anywhere else does not run.
      include: ["test/**/*.test.ts"],
      // Native addons and child processes: separate processes isolate a crash to one file.
      pool: "forks",
      // Every temporary file of the run lives in one sandbox that is removed when the run ends.
      globalSetup: [fileURLToPath(new URL("./test-sandbox.js", import.meta.url))],
      testTimeout: options.testTimeout ?? 60_000,
      // Hooks load models, start servers and browsers: the same bound as a test (the default 10 s fails on a loaded
      // machine — the page test's Chromium start did).
      hookTimeout: options.testTimeout ?? 60_000,
      reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
    },
  });
}
