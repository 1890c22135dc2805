/** Vocos weights that are not a file one can read to the end, or a zip that would expand without bound, are refused. */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { readVocosWeights } from "../src/weights/vocos-weights.js";

describe("Vocos weights that must not be read", () => {
  it("a FIFO and /dev/zero are refused at once", async () => {
    const fifo = join(tempDir("vocos-fifo-"), "pytorch_model.bin");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    await expect(readVocosWeights(fifo)).rejects.toMatchObject({
      code: "ERR_NOT_A_FILE",
      message: `Vocos weights ${fifo} is not a regular file (a FIFO)`,
    });
    await expect(readVocosWeights("/dev/zero")).rejects.toMatchObject({ code: "ERR_NOT_A_FILE" });
  });

  it("a zip whose entries claim to expand past the bound is refused before anything is inflated", async () => {
    const bytes = zipSync({ "archive/data.pkl": new Uint8Array(1 << 16) }, { level: 9 });
    // The central directory's uncompressed size (offset 24 of its header) claims 3 GiB.
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = bytes.length - 22;
    while (at > 0 && view.getUint32(at, true) !== 0x02014b50) at--;
    view.setUint32(at + 24, 3 * 2 ** 30, true);
    const path = join(tempDir("vocos-bomb-"), "pytorch_model.bin");
    writeFileSync(path, bytes);
    await expect(readVocosWeights(path)).rejects.toThrow(
      `its entries expand to ${3 * 2 ** 30} bytes, more than the ${2 ** 31} a checkpoint may hold`,
    );
  });
});
