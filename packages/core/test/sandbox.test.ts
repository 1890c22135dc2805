import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";

// The test harness itself: temporary files go into the run's sandbox, and tempDir() cleans up after itself.
describe("test sandbox", () => {
  const shared = tempDir("core-shared-");

  it("TMPDIR points into the run's sandbox", () => {
    expect(basename(tmpdir())).toMatch(/^vall-e-test-run-/);
    expect(dirname(shared)).toBe(tmpdir());
  });

  let inner = "";
  it("a tempDir made inside a test exists during it", () => {
    inner = tempDir("core-inner-");
    expect(existsSync(inner)).toBe(true);
  });

  it("…and is gone after it; one made at describe level lasts for the file", () => {
    expect(inner).not.toBe("");
    expect(existsSync(inner)).toBe(false);
    expect(existsSync(shared)).toBe(true);
  });
});
