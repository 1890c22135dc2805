/**
 * The tests' tiny random EnCodec: 2 filters (LSTM width 32), latent 8, 16 codes per codebook, 32 codebooks. Small
 * enough for the TypeScript reference to check the native graphs quickly.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EncodecBin } from "../src/weights/encodec-bin.js";
import { randomEncodec, randomEncodecBytes, TINY_ENCODEC_HEADER } from "../src/weights/random.js";

export { seededRandom } from "../src/weights/random.js";
export const TINY_HEADER = TINY_ENCODEC_HEADER;

export function makeTinyEncodec(seed = 1234, half = false): EncodecBin {
  return randomEncodec({ seed, half });
}

/** Write the tiny model into `dir` and return its path. */
export function writeTinyEncodec(dir: string, seed = 1234, half = false): string {
  const path = join(dir, `tiny-encodec-${seed}${half ? "-f16" : ""}.bin`);
  writeFileSync(path, randomEncodecBytes({ seed, half }));
  return path;
}
