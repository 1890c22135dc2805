/**
 * Duration prediction (`vall_e/models/ar_nar.py` `forward_ar`, len branch): greedy digits from the len head — at most
 * 10, the stop digit 10 ends them — read in base 10, then the reference's floor (75 frames), ×1.05 padding
 * (`vall_e/inference.py` `TTS.inference`) and clamp.
 */
import type { Evaluator } from "../evaluator.js";
import { argmax } from "../sampling/samplers.js";
import { decodeLength, durationFrames, LEN_MAX_DIGITS, LEN_STOP } from "../sampling/schedule.js";
import type { Conditioning, RunOptions } from "./common.js";

export interface LengthPrediction {
  /** The digits produced, the leading seed 0 first (and the stop digit when one came). */
  digits: number[];
  /** The value the digits spell. */
  predicted: number;
  /** Frames to generate: max(predicted, 75) × 1.05, clamped to [minFrames, maxFrames]. */
  frames: number;
}

export async function predictLength(
  context: Evaluator,
  conditioning: Conditioning,
  limits: { maxFrames: number; minFrames?: number },
  options: RunOptions = {},
): Promise<LengthPrediction> {
  const digits = [0];
  for (let step = 1; step <= LEN_MAX_DIGITS; step++) {
    const input = context.assemble({ ...conditioning, mode: "len", rvqLevel: 0, len: digits });
    const logits = await context.forward([input], { signal: options.signal });
    const digit = Math.min(argmax(logits), LEN_STOP);
    digits.push(digit);
    options.onProgress?.({ stage: "len", step, total: LEN_MAX_DIGITS });
    if (digit === LEN_STOP) break;
  }
  const predicted = decodeLength(digits);
  return { digits, predicted, frames: durationFrames(predicted, limits) };
}
