/**
 * NAR levels 1 … 7 (`vall_e/models/ar_nar.py` `forward_nar`): one evaluation per level, every position sampled in
 * parallel from head NAR:L−1:L (1024 classes); optional CFG against the null input in the same evaluation.
 */
import type { Evaluator } from "../evaluator.js";
import { RVQ_LEVELS } from "../model/layout.js";
import type { Rng } from "../sampling/rng.js";
import { type SamplerOptions, sampleRow } from "../sampling/samplers.js";
import { cfgLogits } from "../sampling/schedule.js";
import { type Conditioning, type RunOptions, rowOf } from "./common.js";

export interface NarOptions extends RunOptions {
  sampler: SamplerOptions;
  rng: Rng;
  /** The highest level to produce (1 … 7; default 7). */
  maxLevels?: number;
  cfgStrength?: number;
  cfgRescale?: number;
}

/** Adds levels to `levels` (level 0 first, each of T codes) up to maxLevels; returns all levels. */
export async function generateNar(
  context: Evaluator,
  conditioning: Conditioning,
  levels: readonly (readonly number[])[],
  options: NarOptions,
): Promise<number[][]> {
  const out = levels.map((level) => [...level]);
  const top = options.maxLevels ?? RVQ_LEVELS - 1;
  const frames = out[0]?.length ?? 0;
  const strength = options.cfgStrength ?? 0;
  for (let level = out.length; level <= top; level++) {
    const spec = { ...conditioning, mode: "nar" as const, rvqLevel: level, response: out };
    const input = context.assemble(spec);
    const width = input.head.end - input.head.start;
    let logits: Float32Array;
    if (strength > 0) {
      const both = await context.forward([input, context.assemble(spec, { cfgNull: true })], options);
      const half = frames * width;
      logits = cfgLogits(both.subarray(0, half), both.subarray(half), strength, options.cfgRescale ?? 0.7);
    } else {
      logits = await context.forward([input], options);
    }
    const previous = out[level - 1] as number[];
    const codes: number[] = [];
    for (let t = 0; t < frames; t++) {
      // Penalties see the previous level's tokens at the earlier positions (the reference's NAR rule).
      const context_ = { previous: previous.slice(0, t), rng: options.rng };
      codes.push(sampleRow(rowOf(logits, t, width), options.sampler, context_).token);
    }
    out.push(codes);
    options.onProgress?.({ stage: "nar", step: level, total: top });
  }
  return out;
}
