// Temporary directories for tests that the test runner removes: tempDir() makes one under the run's sandbox and
// registers its removal (after the current test when called inside one, else after the file's tests).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, onTestFinished } from "vitest";

/**
 * @param {string} [prefix]
 * @param {{ scope?: "test" | "run" }} [options]
 * @returns {string}
 */
export function tempDir(prefix = "vall-e-test-", options = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (options.scope === "run") return dir; // a per-process cache: the run's sandbox removes it at the end
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    onTestFinished(remove);
  } catch {
    afterAll(remove);
  }
  return dir;
}
