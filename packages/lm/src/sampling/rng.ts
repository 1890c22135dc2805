/**
 * The one PRNG of generation: xoshiro128** (Blackman & Vigna) over 32-bit integer arithmetic, its 128-bit state
 * seeded from a 32-bit seed by SplitMix32. Pure JavaScript, so the same seed gives the same stream on every platform,
 * thread count and process; sampling draws exactly one `next()` per categorical choice, in a fixed order.
 */
import { randomInt } from "node:crypto";
import { expectInteger } from "@vall-e/core";

export const MAX_SEED = 2 ** 32 - 1;

export interface Rng {
  /** The seed this stream started from. */
  readonly seed: number;
  /** A uniform float in [0, 1) with 32 random bits. */
  next(): number;
}

/** A seed for a run that was not given one (report it so the run can be repeated). */
export function drawSeed(): number {
  return randomInt(0, 2 ** 32 - 1);
}

export function createRng(seed: number): Rng {
  expectInteger(seed, "seed", 0, MAX_SEED);
  // SplitMix32 expands the seed into four non-zero-together state words.
  let sm = seed >>> 0;
  const splitmix = (): number => {
    sm = (sm + 0x9e3779b9) >>> 0;
    let z = sm;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = splitmix();
  let s1 = splitmix();
  let s2 = splitmix();
  let s3 = splitmix();
  const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
  return {
    seed,
    next(): number {
      const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
      const t = (s1 << 9) >>> 0;
      s2 = (s2 ^ s0) >>> 0;
      s3 = (s3 ^ s1) >>> 0;
      s1 = (s1 ^ s2) >>> 0;
      s0 = (s0 ^ s3) >>> 0;
      s2 = (s2 ^ t) >>> 0;
      s3 = rotl(s3, 11);
      return result / 2 ** 32;
    },
  };
}
