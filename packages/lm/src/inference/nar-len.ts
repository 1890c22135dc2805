/**
 * NAR-len demasking of level 0 (`vall_e/models/ar_nar.py` `forward_nar_masked`): T positions start masked (1024); at
 * each step of the cosine schedule the k least confident positions are masked again, the conditional and the null input
 * are evaluated in one batch, guided (CFG, strength at least 2.5, one rescale factor over the block), and masked
 * positions take the sampled token (temperature annealed by 1 − t). Confidence is the probability of the argmax of the
 * guided logits (the reference's scoring, for every position), or, with `scoring: "entropy"`, 1 − the normalised
 * entropy. Several utterances demask together, their pairs in one batch per step.
 */

import { NAR_LEN_MIN_CFG, SAMPLING_SETTINGS } from "@vall-e/core";
import type { Evaluator } from "../evaluator.js";
import type { AssembledInput } from "../inputs/assemble.js";
import { CODEBOOK_SIZE } from "../model/layout.js";
import type { Rng } from "../sampling/rng.js";
import { processLogits, type SamplerOptions, sampleRow, softmax } from "../sampling/samplers.js";
import { cfgLogits, maskSchedule } from "../sampling/schedule.js";
import { type Conditioning, forwardEach, type RunOptions, rowOf } from "./common.js";

export const MASK_TOKEN = CODEBOOK_SIZE;

export interface NarLenOptions extends RunOptions {
  /** The sampler at timestep t (temperature annealed by the caller's rule, see narLenSampler). */
  sampler: (t: number) => SamplerOptions;
  rng: Rng;
  frames: number;
  maxSteps: number;
  /** Requested strength; the reference's floor of 2.5 applies. */
  cfgStrength?: number;
  cfgRescale?: number;
  /** Add 1 / (2·steps) to the masked fraction (off in the reference's defaults). */
  remask?: boolean;
  /** Confidence of a position: "probability" (reference) or "entropy". */
  scoring?: "probability" | "entropy";
  /** Score only the masked positions (others 1.0), as the reference's `sampling_scores_masked_only`. */
  maskedOnly?: boolean;
  /** Rolling context: level-0 codes of earlier utterances before the T new positions, fixed (never masked). */
  prefix?: readonly number[];
}

export async function generateNarLen(
  context: Evaluator,
  conditioning: Conditioning,
  options: NarLenOptions,
): Promise<number[]> {
  const [only] = await generateNarLenBatch(context, [{ conditioning, options }], options);
  return only as number[];
}

/** One utterance of a batched NAR-len demasking: its conditioning and its own options (rng, frames, progress). */
export interface NarLenItem {
  conditioning: Conditioning;
  options: NarLenOptions;
}

/**
 * The demasking of several utterances together: at each step, every utterance still demasking sends its conditional
 * and its null input into one batch (`forwardEach`), and each is sampled with its own rng and options — the codes each
 * gets alone. `options.signal` stops them all; each item's own signal is not read.
 */
export async function generateNarLenBatch(
  context: Evaluator,
  items: readonly NarLenItem[],
  options: { signal?: AbortSignal | undefined } = {},
): Promise<number[][]> {
  const states = items.map(({ conditioning, options: own }) => {
    const T = own.frames;
    const prefix = own.prefix ?? [];
    return {
      conditioning,
      own,
      T,
      P: prefix.length,
      prompt: conditioning.prompt?.slice(0, 1) ?? [],
      strength: Math.max(own.cfgStrength ?? NAR_LEN_MIN_CFG, NAR_LEN_MIN_CFG),
      rescale: own.cfgRescale ?? SAMPLING_SETTINGS.cfgRescale.value,
      // The response: the prefix (fixed), then T positions to fill; scores and masks are over the T only.
      codes: [...prefix, ...new Array<number>(T).fill(MASK_TOKEN)],
      scores: new Float64Array(T).fill(1),
      schedule: maskSchedule(T, own.maxSteps, { remask: own.remask ?? false }),
    };
  });
  const steps = Math.max(0, ...states.map((state) => state.schedule.length));
  for (let s = 0; s < steps; s++) {
    const active = states.filter((state) => s < state.schedule.length);
    const inputs = active.flatMap((state) => {
      const { t: _, masked } = state.schedule[s] as { t: number; masked: number };
      const { scores, codes, P } = state;
      // Mask the `masked` least confident positions (ties: the earlier position first).
      const order = Array.from(scores.keys()).sort((a, b) => (scores[a] as number) - (scores[b] as number) || a - b);
      for (const position of order.slice(0, masked)) codes[P + position] = MASK_TOKEN;
      const spec = {
        ...state.conditioning,
        prompt: state.prompt,
        mode: "nar-len" as const,
        rvqLevel: 0,
        response: [codes],
      };
      return [context.assemble(spec), context.assemble(spec, { cfgNull: true })];
    });
    const logits = await forwardEach(context, inputs, options);
    active.forEach((state, k) => {
      const { T, P, codes, own } = state;
      const { t } = state.schedule[s] as { t: number };
      const isMasked = codes.slice(P).map((c) => c === MASK_TOKEN);
      const positive = inputs[2 * k] as AssembledInput;
      const width = positive.head.end - positive.head.start;
      const guided = cfgLogits(
        logits[2 * k] as Float32Array,
        logits[2 * k + 1] as Float32Array,
        state.strength,
        state.rescale,
      );
      const rows = guided.subarray(P * width);
      const sampler = own.sampler(t);
      const next = new Float64Array(T);
      for (let p = 0; p < T; p++) {
        const row = rowOf(rows, p, width);
        const { token } = sampleRow(row, sampler, { rng: own.rng });
        if (isMasked[p]) codes[P + p] = token;
        if (own.maskedOnly && !isMasked[p]) {
          next[p] = 1;
          continue;
        }
        const probs = softmax(processLogits(row, { ...sampler, temperature: 0 }, {}));
        next[p] = own.scoring === "entropy" ? 1 - entropy(probs) / Math.log(probs.length) : Math.max(...probs);
      }
      state.scores = next;
      own.onProgress?.({ stage: "nar-len", step: s + 1, total: state.schedule.length });
    });
  }
  return states.map((state) => state.codes.slice(state.P));
}

function entropy(probs: Float64Array): number {
  let h = 0;
  for (const p of probs) if (p > 0) h -= p * Math.log(p);
  return h;
}
