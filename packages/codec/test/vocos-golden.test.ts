/**
 * Vocos against the official gemelo-ai/vocos code (../shared/fixtures/vocos: random weights in the hub file's exact
 * layout, decoded by the official PyTorch implementation): features, backbone output and audio within 1e-4, for random
 * codes, the prompt codes and the 1- and 2-frame edge cases; chunked decodes equal the whole decode on 60 s of codes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fixture } from "@tooling/config/fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseNpy } from "../src/artifact/npy.js";
import { Vocos } from "../src/vocos.js";

const vocosDir = fixture("vocos");
const encodecDir = fixture("encodec");

function npy(dir: string, name: string): { shape: number[]; values: Float64Array } {
  const path = join(dir, name);
  const array = parseNpy(new Uint8Array(readFileSync(path)), path);
  return { shape: array.shape, values: Float64Array.from(array.data as ArrayLike<number>) };
}

function codesOf(dir: string, name: string): { codes: Int16Array; codebooks: number } {
  const { shape, values } = npy(dir, name);
  return { codes: Int16Array.from(values), codebooks: shape[0] as number };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

describe.skipIf(!vocosDir.present || !encodecDir.present)(
  `Vocos against the official decode ${vocosDir.reason || encodecDir.reason}`,
  () => {
    let vocos: Vocos;
    beforeAll(async () => {
      vocos = await Vocos.load(join(vocosDir.path, "vocos_random.pt"), { threads: 2 });
    });
    afterAll(async () => {
      await vocos.dispose();
    });

    it("features and backbone output of the seed-7 codes", async () => {
      const codes = codesOf(vocosDir.path, "random_codes_seed7.npy");
      const features = await vocos.compute(codes, "features");
      const golden = npy(vocosDir.path, "features_seed7.npy"); // [128, 150], channel-major
      const [channels, frames] = golden.shape as [number, number];
      const transposed = new Float64Array(channels * frames);
      for (let c = 0; c < channels; c++)
        for (let t = 0; t < frames; t++) transposed[t * channels + c] = golden.values[c * frames + t] as number;
      expect(maxAbsDiff(features, transposed)).toBeLessThan(1e-4);
      const backbone = await vocos.compute(codes, "backbone");
      expect(maxAbsDiff(backbone, npy(vocosDir.path, "backbone_seed7.npy").values)).toBeLessThan(1e-4);
    });

    it.each([
      ["the seed-7 codes", vocosDir.path, "random_codes_seed7.npy", "random_codes_seed7_decoded.npy"],
      ["the prompt codes", encodecDir.path, "golden_prompt_codes.npy", "prompt_codes_decoded.npy"],
      ["one frame", vocosDir.path, "codes_1frame.npy", "codes_1frame_decoded.npy"],
      ["two frames", vocosDir.path, "codes_2frame.npy", "codes_2frame_decoded.npy"],
    ])("audio of %s", async (_, dir, codesFile, audioFile) => {
      const codes = codesOf(dir, codesFile);
      const audio = await vocos.decode(codes);
      expect(audio.length).toBe(320 * (codes.codes.length / codes.codebooks));
      expect(maxAbsDiff(audio, npy(vocosDir.path, audioFile).values)).toBeLessThan(1e-4);
    });

    it("chunked decodes of 60 s of codes equal the whole decode within 1e-5", async () => {
      let state = 11;
      const frames = 4500;
      const codes = Int16Array.from({ length: 8 * frames }, () => {
        state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
        return state % 1024;
      });
      const whole = await vocos.decode({ codes, codebooks: 8 }, { chunkFrames: frames });
      const chunked = await vocos.decode({ codes, codebooks: 8 }, { chunkFrames: 997 });
      expect(chunked.length).toBe(320 * frames);
      expect(maxAbsDiff(chunked, whole)).toBeLessThan(1e-5);
    });

    it("bad codes are typed errors", async () => {
      const { codes } = codesOf(vocosDir.path, "codes_2frame.npy");
      await expect(vocos.decode({ codes, codebooks: 3 })).rejects.toThrow(/Expected 2, 4, 8, 16 codebooks/);
      const bad = codes.slice();
      bad[3] = 1024;
      await expect(vocos.decode({ codes: bad, codebooks: 8 })).rejects.toThrow(/codes from 0 to 1023/);
      await expect(vocos.decode({ codes: new Int16Array(0), codebooks: 8 })).rejects.toThrow(/non-empty/);
    });
  },
);
