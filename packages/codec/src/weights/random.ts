/**
 * Seeded random-weight EnCodec models in encodec.cpp's format: same architecture and file layout as the real model
 * (so the native loader and graphs run unchanged), any size. The tests' tiny models and the `tiny` bundle's codec.
 */
import { type EncodecBin, type EncodecBinHeader, type EncodecBinTensor, encodeEncodecBin } from "./encodec-bin.js";
import { encodecTensorShapes, storedAsHalf } from "./layout.js";

/** A small LCG: the same numbers on every platform. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export interface RandomEncodecOptions {
  seed?: number;
  /** Store matrices as f16, as encodec.cpp does for ftype 1. */
  half?: boolean;
  /** Header fields (default: 2 filters, latent 8, 16 codes per codebook, 24 kbps = 32 codebooks). */
  header?: Partial<EncodecBinHeader>;
}

export const TINY_ENCODEC_HEADER: EncodecBinHeader = {
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

export function randomEncodec(options: RandomEncodecOptions = {}): EncodecBin {
  const random = seededRandom(options.seed ?? 1234);
  const half = options.half ?? false;
  const header = { ...TINY_ENCODEC_HEADER, ...options.header, ftype: half ? 1 : 0 };
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

/** The file bytes of a random model. */
export function randomEncodecBytes(options: RandomEncodecOptions = {}): Uint8Array {
  return encodeEncodecBin(randomEncodec(options));
}
