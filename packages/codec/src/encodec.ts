/**
 * Facts of EnCodec 24 kHz (encodec's `encodec/model.py` `EncodecModel.encodec_model_24khz`): its sample rate, frame
 * rate, and the bandwidths it offers with the number of RVQ codebooks each uses.
 */
import { HOP_LENGTH, invalid } from "@vall-e/core";

export { CODEBOOK_SIZE, FRAME_RATE, HOP_LENGTH, SAMPLE_RATE } from "@vall-e/core";

/** Target bandwidths in kbps and the codebooks each uses (1.5 kbps per pair of 10-bit codebooks at 75 Hz). */
export const BANDWIDTHS = Object.freeze({ 1.5: 2, 3: 4, 6: 8, 12: 16, 24: 32 } as const);
export type Bandwidth = 1.5 | 3 | 6 | 12 | 24;

/** Codebooks used at `bandwidth` kbps; a clear error for any other value. */
export function codebooksForBandwidth(bandwidth: number): number {
  const codebooks = (BANDWIDTHS as Record<string, number>)[String(bandwidth)];
  if (typeof bandwidth !== "number" || codebooks === undefined) {
    throw invalid("a bandwidth of 1.5, 3, 6, 12 or 24 (kbps)", "bandwidth", bandwidth);
  }
  return codebooks;
}

/** Code frames for `samples` samples at 24 kHz: ceil(samples / 320), as the causal encoder produces. */
export function framesForSamples(samples: number): number {
  if (!Number.isInteger(samples) || samples < 0) throw invalid("a non-negative integer", "samples", samples);
  return Math.ceil(samples / HOP_LENGTH);
}
