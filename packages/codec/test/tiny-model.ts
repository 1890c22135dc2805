/**
 * A tiny random EnCodec in encodec.cpp's format, made by a seeded script: 2 filters (LSTM width 32), latent 8,
 * 16 codes per codebook, 32 codebooks. Same architecture and file layout as the real model, so the native loader
 * and graphs run unchanged, and the TypeScript reference can check them quickly.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type EncodecBin, type EncodecBinTensor, encodeEncodecBin } from "../src/weights/encodec-bin.js";
import { encodecTensorShapes, storedAsHalf } from "../src/weights/layout.js";

export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export const TINY_HEADER = {
  inChannels: 1,
  hiddenDim: 8,
  nFilters: 2,
  kernelSize: 7,
  residualKernelSize: 3,
  bins: 16,
  bandwidth: 24,
  sampleRate: 24000,
  ftype: 0,
};

export function makeTinyEncodec(seed = 1234, half = false): EncodecBin {
  const random = seededRandom(seed);
  const header = { ...TINY_HEADER, ftype: half ? 1 : 0 };
  const tensors = new Map<string, EncodecBinTensor>();
  for (const [name, shape] of encodecTensorShapes(header)) {
    const count = shape.reduce((a, b) => a * b, 1);
    // Fan-in scaled weights keep activations O(1) through the stack; codebooks spread like the latents.
    const fanIn = shape.length > 1 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    const scale = name.includes("embed") ? 1.5 : name.includes("bias") ? 0.1 : 1.6 / Math.sqrt(fanIn);
    const data = Float32Array.from({ length: count }, () => (random() * 2 - 1) * scale);
    const scalar = name === "decoder.model.15.conv.conv.bias"; // encodec.cpp writes this [1] bias as a scalar
    tensors.set(name, { shape: scalar ? [] : shape, ftype: half && storedAsHalf(name) ? 1 : 0, data });
  }
  return { header, tensors };
}

/** Write the tiny model into `dir` and return its path. */
export function writeTinyEncodec(dir: string, seed = 1234, half = false): string {
  const path = join(dir, `tiny-encodec-${seed}${half ? "-f16" : ""}.bin`);
  writeFileSync(path, encodeEncodecBin(makeTinyEncodec(seed, half)));
  return path;
}
