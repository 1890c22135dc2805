import { readFileSync } from "node:fs";
import { tempDir } from "@tooling/config/temp-dir";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Codec } from "../src/codec.js";
import { parseEncodecBin } from "../src/weights/encodec-bin.js";
import { referenceDecode, referenceLatent, referenceQuantize } from "./encodec-reference.js";
import { seededRandom, writeTinyEncodec } from "./tiny-model.js";

function signal(length: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length }, (_, i) => 0.3 * Math.sin(i / 7) + 0.2 * (random() * 2 - 1));
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

describe("native EnCodec vs the TypeScript reference (tiny random model)", () => {
  const dir = tempDir("encodec-tiny-");
  const path = writeTinyEncodec(dir, 1234);
  const bin = parseEncodecBin(readFileSync(path));
  let codec: Codec;
  beforeAll(async () => {
    codec = await Codec.load(path, { threads: 2 });
  });
  afterAll(async () => {
    await codec.dispose();
  });

  // Lengths around every padding rule: shorter than every kernel, one frame, frame boundaries, and ≤ 1920 samples
  // (where the frame-rate k=7 conv takes the short-input path; encodec.cpp aborts there).
  for (const length of [1, 5, 319, 320, 321, 1000, 1920, 1921, 4000]) {
    it(`encodes ${length} samples: same latent and codes`, async () => {
      const samples = signal(length, length);
      const latent = await codec.encodeLatent(samples);
      const expected = referenceLatent(bin, samples);
      const frames = Math.ceil(length / 320);
      expect(latent.length).toBe(frames * 8);
      const flat = new Float64Array(frames * 8);
      for (let t = 0; t < frames; t++)
        for (let d = 0; d < 8; d++) flat[t * 8 + d] = (expected[d] as Float64Array)[t] as number;
      expect(maxAbs(latent, flat)).toBeLessThan(1e-4);
      // Codes from the reference latent vs the native codes: identical unless a distance tie flips one.
      const codes = await codec.encode(samples, { bandwidth: 6 });
      expect(codes.length).toBe(8 * frames);
      const reference = referenceQuantize(bin, expected, 8);
      const same = codes.filter((code, i) => code === reference[i]).length;
      expect(same / codes.length).toBeGreaterThanOrEqual(length < 1000 ? 1 : 0.99);
    });
  }

  for (const frames of [1, 3, 7, 40]) {
    it(`decodes ${frames} frames: same samples`, async () => {
      const random = seededRandom(frames);
      const codes = Int16Array.from({ length: 8 * frames }, () => Math.floor(random() * 16));
      const audio = await codec.decode({ codes, codebooks: 8 });
      expect(audio.length).toBe(frames * 320);
      expect(maxAbs(audio, referenceDecode(bin, codes, 8))).toBeLessThan(1e-4);
    });
  }

  it("gives identical results in chunks and whole", async () => {
    const samples = signal(320 * 97 + 11, 5);
    const whole = await codec.encode(samples, { bandwidth: 24, chunkFrames: 1 << 20 });
    for (const chunkFrames of [8, 9, 33]) {
      expect(await codec.encode(samples, { bandwidth: 24, chunkFrames })).toEqual(whole);
    }
    const decodedWhole = await codec.decode({ codes: whole, codebooks: 32 }, { chunkFrames: 1 << 20 });
    for (const chunkFrames of [8, 13, 33]) {
      expect(maxAbs(await codec.decode({ codes: whole, codebooks: 32 }, { chunkFrames }), decodedWhole)).toBe(0);
    }
  });

  it("refuses chunks too short to hold the start's reflect padding", async () => {
    await expect(codec.encode(signal(640, 1), { chunkFrames: 7 })).rejects.toThrow(
      "Expected an integer from 8 to 1048576 for chunkFrames, got 7",
    );
  });

  it("f16 weights load and agree with the reference on the same stored values", async () => {
    const halfPath = writeTinyEncodec(dir, 1234, true);
    const halfBin = parseEncodecBin(readFileSync(halfPath));
    await using half = await Codec.load(halfPath);
    expect(half.info.weightType).toBe("f16");
    const codes = Int16Array.from({ length: 8 * 10 }, (_, i) => (i * 7) % 16);
    expect(maxAbs(await half.decode({ codes, codebooks: 8 }), referenceDecode(halfBin, codes, 8))).toBeLessThan(1e-4);
  });
});
