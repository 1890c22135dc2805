/**
 * Duration prediction (`vall_e/models/ar_nar.py` `forward_ar`, len branch): greedy digits from the len head — at most
 * 10, the stop digit 10 ends them — read in base 10, then the reference's floor (75 frames), ×1.05 padding
 * (`vall_e/inference.py` `TTS.inference`) and clamp. Several utterances' digits are evaluated together, one batch per
 * digit, each giving what it gives alone.
 */
import type { Evaluator } from "../evaluator.js";
import { argmax } from "../sampling/samplers.js";
import { decodeLength, durationFrames, LEN_MAX_DIGITS, LEN_STOP } from "../sampling/schedule.js";
import { type Conditioning, forwardEach, type RunOptions } from "./common.js";

export interface LengthPrediction {
  /** The digits produced, the leading seed 0 first (and the stop digit when one came). */
  digits: number[];
  /** The value the digits spell. */
  predicted: number;
  /** Frames to generate: max(predicted, 75) × 1.05, clamped to [minFrames, maxFrames]. */
  frames: number;
}

/** One utterance of a batched len pass. */
export interface LengthItem {
  conditioning: Conditioning;
  limits: { maxFrames: number; minFrames?: number };
  onProgress?: RunOptions["onProgress"];
}

export async function predictLength(
  context: Evaluator,
  conditioning: Conditioning,
  limits: { maxFrames: number; minFrames?: number },
  options: RunOptions = {},
): Promise<LengthPrediction> {
  const [only] = await predictLengths(context, [{ conditioning, limits, onProgress: options.onProgress }], options);
  return only as LengthPrediction;
}

/** The len pass of several utterances, their digits evaluated together until each has its stop digit (or 10). */
export async function predictLengths(
  context: Evaluator,
  items: readonly LengthItem[],
  options: { signal?: AbortSignal | undefined } = {},
): Promise<LengthPrediction[]> {
  const digits = items.map(() => [0]);
  let open = items.map((_, i) => i);
  for (let step = 1; step <= LEN_MAX_DIGITS && open.length > 0; step++) {
    const inputs = open.map((i) =>
      context.assemble({
        ...(items[i] as LengthItem).conditioning,
        mode: "len",
        rvqLevel: 0,
        len: digits[i] as number[],
      }),
    );
    const logits = await forwardEach(context, inputs, { signal: options.signal });
    open.forEach((i, k) => {
      const digit = Math.min(argmax(logits[k] as Float32Array), LEN_STOP);
      (digits[i] as number[]).push(digit);
      items[i]?.onProgress?.({ stage: "len", step, total: LEN_MAX_DIGITS });
    });
    open = open.filter((i) => (digits[i] as number[]).at(-1) !== LEN_STOP);
  }
  return items.map((item, i) => {
    const predicted = decodeLength(digits[i] as number[]);
    return { digits: digits[i] as number[], predicted, frames: durationFrames(predicted, item.limits) };
  });
}
