/**
 * The arithmetic of the procedures (`vall_e/models/ar_nar.py` `forward_ar` / `forward_nar_masked`,
 * `vall_e/inference.py` `TTS.inference`, `vall_e/samplers.py` `cfg_logits`): the duration digits and their
 * post-processing, the NAR-len masking schedule, and classifier-free guidance.
 */

/** The len head's stop digit. */
export const LEN_STOP = 10;
/** Digits the len pass produces at most. */
export const LEN_MAX_DIGITS = 10;

/**
 * The frames a len pass predicted: the digits (including the leading seed 0, without the stop 10) read in base 10.
 * `[0, 2, 4, 0, 10]` → 240.
 */
export function decodeLength(digits: readonly number[]): number {
  let value = 0;
  for (const digit of digits) {
    if (digit >= LEN_STOP) break; // the reference clamps larger values to the stop digit
    value = value * 10 + digit;
  }
  return value;
}

export interface DurationLimits {
  /** Frames at least (default 1). */
  minFrames?: number;
  /** Frames at most (the reference's max_duration; the CLI's default is 900 = 12 s). */
  maxFrames: number;
}

/**
 * The reference's post-processing of a predicted length: at least 75 frames (1 s), × 1.05 (truncated), then clamped
 * to [minFrames, maxFrames]. 240 → 252; 60 → 78.
 */
export function durationFrames(predicted: number, limits: DurationLimits): number {
  const padded = Math.trunc(Math.max(predicted, 75) * 1.05);
  return Math.min(Math.max(padded, limits.minFrames ?? 1), limits.maxFrames);
}

/**
 * torch.linspace(start, end, steps) in float32: the first half counts up from start, the second half down from end,
 * each point rounded to float32 (the NAR-len timesteps; exact mask counts depend on it).
 */
export function linspace32(start: number, end: number, steps: number): number[] {
  if (steps === 1) return [Math.fround(start)];
  const step = Math.fround((end - start) / (steps - 1));
  const half = Math.floor(steps / 2);
  return Array.from({ length: steps }, (_, i) =>
    i < half ? Math.fround(start + step * i) : Math.fround(end - step * (steps - 1 - i)),
  );
}

export interface MaskStep {
  /** The timestep t in [0, 1]. */
  t: number;
  /** Positions masked (re-predicted) at this step. */
  masked: number;
}

/**
 * The NAR-len schedule (`vall_e/models/ar_nar.py` `forward_nar_masked`): steps = ⌊maxSteps · (end − start)⌋ timesteps;
 * at step s the k positions with the lowest scores are masked, k = clamp(⌊(cos(t·π/2) + remask) · T⌋, 1, T − s),
 * remask = 1 / (2·steps) when remasking. T = 300, 25 steps: 300, 299, 297, 294, …, 19, 1.
 */
export function maskSchedule(
  frames: number,
  maxSteps: number,
  options: { remask?: boolean; denoiseStart?: number; denoiseEnd?: number } = {},
): MaskStep[] {
  const start = options.denoiseStart ?? 0;
  const end = options.denoiseEnd ?? 1;
  const steps = Math.floor(maxSteps * (end - start));
  const remask = options.remask ? 1 / (2 * steps) : 0;
  return linspace32(start, end, steps).map((t, s) => {
    const noise = Math.cos((t * Math.PI) / 2);
    const k = Math.trunc((noise + remask) * frames);
    return { t, masked: Math.min(Math.max(k, 1), frames - s) };
  });
}

/**
 * Classifier-free guidance (`vall_e/samplers.py` `cfg_logits`) over one sequence's block of rows:
 * g = null + (pos − null) · strength; with rescale > 0, g · (rescale · std(pos) / std(g) + 1 − rescale), the standard
 * deviations Bessel-corrected and taken over the whole block (one factor per sequence, as the reference).
 */
export function cfgLogits(
  positive: ArrayLike<number>,
  negative: ArrayLike<number>,
  strength: number,
  rescale: number,
): Float32Array {
  if (positive.length !== negative.length) {
    throw new RangeError(`CFG needs blocks of one size, got ${positive.length} and ${negative.length}`);
  }
  const guided = new Float64Array(positive.length);
  for (let i = 0; i < guided.length; i++) {
    const n = negative[i] as number;
    guided[i] = n + ((positive[i] as number) - n) * strength;
  }
  if (rescale <= 0) return Float32Array.from(guided);
  const factor = (rescale * std(positive)) / std(guided) + (1 - rescale);
  return Float32Array.from(guided, (v) => v * factor);
}

function std(values: ArrayLike<number>): number {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] as number;
  mean /= n;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += ((values[i] as number) - mean) ** 2;
  return Math.sqrt(sum / (n - 1));
}
