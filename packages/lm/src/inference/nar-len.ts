/**
 * NAR-len demasking of level 0 (`vall_e/models/ar_nar.py` `forward_nar_masked`): T positions start masked (1024); at
 * each step of the cosine schedule the k least confident positions are masked again, the conditional and the null input
 * are evaluated in one batch, guided (CFG, strength at least 2.5, one rescale factor over the block), and masked
 * positions take the sampled token (temperature annealed by 1 − t). Confidence is the probability of the argmax of the
 * guided logits (the reference's scoring, for every position), or, with `scoring: "entropy"`, 1 − the normalised
 * entropy.
 */

import { NAR_LEN_MIN_CFG, SAMPLING_SETTINGS } from "@vall-e/core";
import type { Evaluator } from "../evaluator.js";
import { CODEBOOK_SIZE } from "../model/layout.js";
import type { Rng } from "../sampling/rng.js";
import { processLogits, type SamplerOptions, sampleRow, softmax } from "../sampling/samplers.js";
import { cfgLogits, maskSchedule } from "../sampling/schedule.js";
import { type Conditioning, type RunOptions, rowOf } from "./common.js";

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
  const T = options.frames;
  const prompt = conditioning.prompt?.slice(0, 1) ?? [];
  const strength = Math.max(options.cfgStrength ?? NAR_LEN_MIN_CFG, NAR_LEN_MIN_CFG);
  const rescale = options.cfgRescale ?? SAMPLING_SETTINGS.cfgRescale.value;
  const prefix = options.prefix ?? [];
  const P = prefix.length;
  // The response: the prefix (fixed), then T positions to fill; scores and masks are over the T only.
  const codes = [...prefix, ...new Array<number>(T).fill(MASK_TOKEN)];
  let scores = new Float64Array(T).fill(1);
  const schedule = maskSchedule(T, options.maxSteps, { remask: options.remask ?? false });
  for (const [s, { t, masked }] of schedule.entries()) {
    // Mask the `masked` least confident positions (ties: the earlier position first).
    const order = Array.from(scores.keys()).sort((a, b) => (scores[a] as number) - (scores[b] as number) || a - b);
    for (const position of order.slice(0, masked)) codes[P + position] = MASK_TOKEN;
    const isMasked = codes.slice(P).map((c) => c === MASK_TOKEN);

    const spec = { ...conditioning, prompt, mode: "nar-len" as const, rvqLevel: 0, response: [codes] };
    const positive = context.assemble(spec);
    const both = await context.forward([positive, context.assemble(spec, { cfgNull: true })], options);
    const width = positive.head.end - positive.head.start;
    const rows = P + T;
    const guided = cfgLogits(both.subarray(0, rows * width), both.subarray(rows * width), strength, rescale);
    const logits = guided.subarray(P * width);

    const sampler = options.sampler(t);
    const next = new Float64Array(T);
    for (let p = 0; p < T; p++) {
      const row = rowOf(logits, p, width);
      const { token } = sampleRow(row, sampler, { rng: options.rng });
      if (isMasked[p]) codes[P + p] = token;
      if (options.maskedOnly && !isMasked[p]) {
        next[p] = 1;
        continue;
      }
      const probs = softmax(processLogits(row, { ...sampler, temperature: 0 }, {}));
      next[p] = options.scoring === "entropy" ? 1 - entropy(probs) / Math.log(probs.length) : Math.max(...probs);
    }
    scores = next;
    options.onProgress?.({ stage: "nar-len", step: s + 1, total: schedule.length });
  }
  return codes.slice(P);
}

function entropy(probs: Float64Array): number {
  let h = 0;
  for (const p of probs) if (p > 0) h -= p * Math.log(p);
  return h;
}
