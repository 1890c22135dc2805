/**
 * Every kernel size the weight header may declare (1 … 31) builds its graphs: the graph contexts are sized from the
 * model, not a fixed budget (a kernel of 21 once ran out of tensor metadata and crashed the process).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { Codec } from "../src/codec.js";
import { randomEncodecBytes } from "../src/weights/random.js";

const samples = Float32Array.from({ length: 6400 }, (_, i) => 0.3 * Math.sin(i / 9));

describe("EnCodec weights with large kernels", () => {
  it.each([
    [21, 3],
    [31, 31],
    [1, 1],
  ])("kernel %i, residual kernel %i: encode and decode run", async (kernelSize, residualKernelSize) => {
    const path = join(tempDir("codec-kernels-"), "codec.bin");
    writeFileSync(path, randomEncodecBytes({ header: { kernelSize, residualKernelSize } }));
    await using codec = await Codec.load(path, { threads: 1 });
    const codes = await codec.encode(samples, { bandwidth: 6 });
    expect(codes.length).toBe(8 * 20);
    const audio = await codec.decode({ codes, codebooks: 8 });
    expect(audio.length).toBe(20 * 320);
    expect(audio.every(Number.isFinite)).toBe(true);
  });

  it("a kernel the graphs do not take is refused at load, naming the header field", async () => {
    const path = join(tempDir("codec-kernels-"), "codec.bin");
    writeFileSync(path, randomEncodecBytes({ header: { kernelSize: 32 } }));
    await expect(Codec.load(path)).rejects.toMatchObject({
      code: "ERR_CODEC_FORMAT",
      message: `EnCodec weights ${path}: header field kernel_size is 32, expected 1 to 31`,
    });
  });
});
