import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { Codec } from "../src/codec.js";
import { encodeEncodecBin, parseEncodecBin } from "../src/weights/encodec-bin.js";
import { makeTinyEncodec, writeTinyEncodec } from "./tiny-model.js";

const dir = tempDir("encodec-errors-");
const good = writeTinyEncodec(dir, 99);

function variant(name: string, edit: (bin: ReturnType<typeof makeTinyEncodec>) => void): string {
  const bin = makeTinyEncodec(99);
  edit(bin);
  const path = join(dir, name);
  writeFileSync(path, encodeEncodecBin(bin));
  return path;
}

describe("codec weights: bad files are clear errors, never a crash", () => {
  it("a missing file", async () => {
    await expect(Codec.load(join(dir, "none.bin"))).rejects.toMatchObject({
      code: "ERR_FILE_NOT_FOUND",
      message: `EnCodec weights not found: ${join(dir, "none.bin")}`,
    });
  });

  it("wrong magic", async () => {
    const path = join(dir, "text.bin");
    writeFileSync(path, "hello, this is not a weight file");
    await expect(Codec.load(path)).rejects.toMatchObject({
      code: "ERR_CODEC_FORMAT",
      message: `${path} is not an EnCodec ggml weight file (magic 0x6c6c6568, expected 0x67676d6c "ggml")`,
    });
  });

  it("a truncated file", async () => {
    const path = join(dir, "truncated.bin");
    const bytes = readFileSync(good);
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    await expect(Codec.load(path)).rejects.toThrow(
      new RegExp(
        `^EnCodec weights ${path} are truncated: the data of tensor 'decoder\\.model\\.15\\.conv\\.conv\\.weight' needs 56 bytes at offset \\d+, \\d+ left$`,
      ),
    );
    writeFileSync(path, bytes.subarray(0, 20));
    await expect(Codec.load(path)).rejects.toThrow(
      `EnCodec weights ${path} are truncated: the header needs 4 bytes at offset 20, 0 left`,
    );
  });

  it("a missing tensor, a misshapen tensor, an unknown tensor, a bad header", async () => {
    const missing = variant("missing.bin", (bin) => bin.tensors.delete("encoder.model.13.lstm.weight_hh_l1"));
    await expect(Codec.load(missing)).rejects.toThrow(
      `EnCodec weights ${missing}: tensor 'encoder.model.13.lstm.weight_hh_l1' is missing`,
    );
    const misshapen = variant("misshapen.bin", (bin) => {
      const tensor = bin.tensors.get("decoder.model.3.convtr.convtr.weight");
      if (tensor) tensor.shape = [tensor.shape[1] as number, tensor.shape[0] as number, tensor.shape[2] as number];
    });
    await expect(Codec.load(misshapen)).rejects.toThrow(
      `EnCodec weights ${misshapen}: tensor 'decoder.model.3.convtr.convtr.weight' has shape [16, 32, 16], expected [16, 16, 32]`,
    );
    const unknown = variant("unknown.bin", (bin) =>
      bin.tensors.set("encoder.model.99.weight", { shape: [1], ftype: 0, data: new Float32Array(1) }),
    );
    await expect(Codec.load(unknown)).rejects.toThrow(
      `EnCodec weights ${unknown}: unexpected tensor 'encoder.model.99.weight'`,
    );
    const header = variant("header.bin", (bin) => {
      bin.header.sampleRate = 48000;
    });
    await expect(Codec.load(header)).rejects.toThrow(
      `EnCodec weights ${header}: header field sample_rate is 48000, expected 24000`,
    );
  });
});

describe("codec calls: bad input is a clear error", () => {
  it("rejects empty, non-finite and out-of-range input with exact messages", async () => {
    await using codec = await Codec.load(good);
    await expect(codec.encode(new Float32Array(0))).rejects.toThrow(
      "Expected at least one sample for samples, got a Float32Array of length 0",
    );
    await expect(codec.encode(Float32Array.from([0, 0.1, 0.2, Number.NaN]))).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
      message: "Expected finite samples, got nan at sample 3",
    });
    await expect(codec.encode(new Float32Array(100), { bandwidth: 5 })).rejects.toThrow(
      "Expected a bandwidth of 1.5, 3, 6, 12 or 24 (kbps) for bandwidth, got 5",
    );
    const codes = new Int16Array(16).fill(3);
    codes[5] = 16; // the tiny model has 16 codes per codebook
    await expect(codec.decode({ codes, codebooks: 8 })).rejects.toThrow(
      "Expected codes from 0 to 15 for codes[2][1], got 16",
    );
    codes[5] = -1;
    await expect(codec.decode({ codes, codebooks: 8 })).rejects.toThrow(
      "Expected codes from 0 to 15 for codes[2][1], got -1",
    );
    await expect(codec.decode({ codes: new Int16Array(15), codebooks: 8 })).rejects.toThrow(
      "Expected a non-empty multiple of 8 codes (codebooks × frames) for codes, got an Int16Array of length 15",
    );
    await expect(codec.decode({ codes: new Int16Array(66), codebooks: 33 })).rejects.toThrow(
      "Expected an integer from 1 to 32 for codebooks, got 33",
    );
  });

  it("cancels a long call and stays usable; use after dispose is an error", async () => {
    const codec = await Codec.load(good);
    const controller = new AbortController();
    const running = codec.decode(
      { codes: new Int16Array(8 * 20_000), codebooks: 8 },
      { signal: controller.signal, chunkFrames: 64 },
    );
    setTimeout(() => controller.abort(), 20);
    await expect(running).rejects.toMatchObject({ code: "ERR_CANCELLED" });
    expect((await codec.decode({ codes: new Int16Array(8), codebooks: 8 })).length).toBe(320);
    await codec.dispose();
    await expect(codec.decode({ codes: new Int16Array(8), codebooks: 8 })).rejects.toThrow(
      "This EncodecModel has been disposed",
    );
  });
});

describe("weight files in TypeScript", () => {
  it("round-trips the encodec.cpp layout, scalars and f16 included", () => {
    const bin = makeTinyEncodec(3, true);
    const back = parseEncodecBin(encodeEncodecBin(bin));
    expect(back.header).toEqual(bin.header);
    expect([...back.tensors.keys()]).toEqual([...bin.tensors.keys()]);
    expect(back.tensors.get("decoder.model.15.conv.conv.bias")?.shape).toEqual([]);
    expect(back.tensors.get("quantizer.vq.layers.0._codebook.embed")?.ftype).toBe(0);
    expect(back.tensors.get("encoder.model.0.conv.conv.weight")?.ftype).toBe(1);
  });
});
