import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { makeDirectory } from "../../src/files/make-directory.js";

describe("makeDirectory", () => {
  it("creates the missing levels; an existing directory is fine", async () => {
    const root = tempDir("mkdir-");
    await makeDirectory(join(root, "a", "b", "c"));
    expect(existsSync(join(root, "a", "b", "c"))).toBe(true);
    await makeDirectory(join(root, "a", "b"));
  });

  it("fails at once where Node's recursive mkdir would loop (/proc), and under a file", async () => {
    await expect(makeDirectory("/proc/nope/deeper")).rejects.toMatchObject({
      code: "ERR_FILE_WRITE",
      message: expect.stringContaining("Cannot write /proc/nope/deeper:"),
    });
    const file = join(tempDir("mkdir-"), "file");
    writeFileSync(file, "x");
    await expect(makeDirectory(join(file, "sub"))).rejects.toThrow("not a directory");
  });
});
