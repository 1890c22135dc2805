/**
 * NAR levels 1 … 7 (`vall_e/models/ar_nar.py` `forward_nar`): one evaluation per level, every position sampled in
 * parallel from head NAR:L−1:L (1024 classes); optional CFG against the null input in the same evaluation. Several
 * utterances' levels are evaluated together, one batch per level.
 */
import type { Evaluator } from "../evaluator.js";
import type { AssembledInput } from "../inputs/assemble.js";
import { RVQ_LEVELS } from "../model/layout.js";
import type { Rng } from "../sampling/rng.js";
import { type SamplerOptions, sampleRow } from "../sampling/samplers.js";
import { cfgLogits } from "../sampling/schedule.js";
import { type Conditioning, forwardEach, type RunOptions, rowOf } from "./common.js";

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
  const [only] = await generateNarBatch(context, [{ conditioning, levels, options }], options);
  return only as number[][];
}

/** One utterance of a batched NAR: its conditioning, the levels it has, and its own options (rng, progress). */
export interface NarItem {
  conditioning: Conditioning;
  levels: readonly (readonly number[])[];
  options: NarOptions;
}

/**
 * The NAR levels of several utterances together: each round, every utterance still short of its top level sends its
 * next level's input (and its null input, with CFG) into one batch (`forwardEach`: one evaluation per head), sampled
 * with its own rng — the codes each gets alone. `options.signal` stops them all; each item's own signal is not read.
 */
export async function generateNarBatch(
  context: Evaluator,
  items: readonly NarItem[],
  options: { signal?: AbortSignal | undefined } = {},
): Promise<number[][][]> {
  const states = items.map(({ conditioning, levels, options: own }) => ({
    conditioning,
    own,
    out: levels.map((level) => [...level]),
    top: own.maxLevels ?? RVQ_LEVELS - 1,
    strength: own.cfgStrength ?? 0,
  }));
  for (;;) {
    const active = states.filter((state) => state.out.length <= state.top);
    if (active.length === 0) break;
    const inputs = active.flatMap((state) => {
      const spec = { ...state.conditioning, mode: "nar" as const, rvqLevel: state.out.length, response: state.out };
      const input = context.assemble(spec);
      return state.strength > 0 ? [input, context.assemble(spec, { cfgNull: true })] : [input];
    });
    const logits = await forwardEach(context, inputs, options);
    let next = 0;
    for (const state of active) {
      const { out, own, strength } = state;
      const level = out.length;
      const input = inputs[next] as AssembledInput;
      const width = input.head.end - input.head.start;
      let rows = logits[next++] as Float32Array;
      if (strength > 0) rows = cfgLogits(rows, logits[next++] as Float32Array, strength, own.cfgRescale ?? 0.7);
      const previous = out[level - 1] as number[];
      const frames = out[0]?.length ?? 0;
      const codes: number[] = [];
      for (let t = 0; t < frames; t++) {
        // Penalties see the previous level's tokens at the earlier positions (the reference's NAR rule).
        const context_ = { previous: previous.slice(0, t), rng: own.rng };
        codes.push(sampleRow(rowOf(rows, t, width), own.sampler, context_).token);
      }
      out.push(codes);
      own.onProgress?.({ stage: "nar", step: level, total: state.top });
    }
  }
  return states.map((state) => state.out);
}
