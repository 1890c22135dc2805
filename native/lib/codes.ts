/** The code matrix both decoders take: checked once here, before any native work. */
import { invalid } from "@vall-e/core";

/**
 * Codes [codebooks × frames], codebook-major: non-empty, a whole number of frames, every code 0 … bins − 1 (the
 * message names the first that is not, as codes[codebook][frame]). Returns the frame count.
 */
export function checkCodeMatrix(codes: Int16Array, codebooks: number, bins: number): number {
  if (codes.length === 0 || codes.length % codebooks !== 0) {
    throw invalid(`a non-empty multiple of ${codebooks} codes (codebooks × frames)`, "codes", codes);
  }
  const frames = codes.length / codebooks;
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] as number;
    if (code < 0 || code >= bins) {
      throw invalid(`codes from 0 to ${bins - 1}`, `codes[${Math.floor(i / frames)}][${i % frames}]`, code);
    }
  }
  return frames;
}
