/** A cut GGUF is reported as truncated (where it ends and how long the header needs), a FIFO is never read. */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { LanguageModel } from "../src/language-model.js";
import { tinyModel } from "./tiny.js";

describe("truncated and special GGUF files", () => {
  it.each([100, 4096, 0.6])("cut at %s: the header's length and the file's are named", async (cut) => {
    const bytes = readFileSync(await tinyModel());
    const size = cut < 1 ? Math.floor(bytes.length * cut) : cut;
    const path = join(tempDir("lm-truncated-"), "cut.gguf");
    writeFileSync(path, bytes.subarray(0, size));
    const error = await LanguageModel.load(path).catch((e: Error) => e);
    expect(error).toMatchObject({ code: "ERR_MODEL_FORMAT" });
    expect((error as Error).message).toMatch(
      new RegExp(
        `^${path} is truncated: (its GGUF header runs to byte \\d+|tensor '.+' needs bytes \\d+ … \\d+), the file has ${size}`,
      ),
    );
  });

  it("a FIFO is refused at once", async () => {
    const fifo = join(tempDir("lm-fifo-"), "model.gguf");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    await expect(LanguageModel.load(fifo)).rejects.toMatchObject({
      code: "ERR_NOT_A_FILE",
      message: `Model file ${fifo} is not a regular file (a FIFO)`,
    });
  });
});
