/**
 * AR level 0 (`vall_e/models/ar_nar.py` `forward_ar`): one token per step from the last row of head AR:0:0 until the
 * stop token (1024) or `maxFrames`. With the KV cache (default) the prompt is evaluated once and each step appends one
 * token (O(1) host work: the new token's row and position, nothing re-assembled); without it every step re-evaluates
 * the whole sequence (the reference's way, kept to check the cache). Optional CFG evaluates the null input alongside
 * (always without the cache) and guides the last row.
 */
import type { Evaluator } from "../evaluator.js";
import { type AssembledInput, nextArToken } from "../inputs/assemble.js";
import { CODEBOOK_SIZE } from "../model/layout.js";
import type { Rng } from "../sampling/rng.js";
import { type SamplerOptions, sampleRow } from "../sampling/samplers.js";
import { cfgLogits } from "../sampling/schedule.js";
import type { Conditioning, RunOptions } from "./common.js";

/** The AR head's stop token. */
export const AR_STOP = CODEBOOK_SIZE;

export interface ArOptions extends RunOptions {
  sampler: SamplerOptions;
  rng: Rng;
  maxFrames: number;
  /** CFG strength (0: off) and rescale. */
  cfgStrength?: number;
  cfgRescale?: number;
  /** Evaluate with the KV cache (default true). */
  cache?: boolean;
  /** Rolling context: level-0 codes of earlier utterances the response continues from (not returned). */
  prefix?: readonly number[];
}

export interface ArResult {
  /** Level-0 codes, without the stop token. */
  codes: number[];
  /** Whether the stop token ended the sequence (false: maxFrames reached). */
  stopped: boolean;
}

export async function generateAr(
  context: Evaluator,
  conditioning: Conditioning,
  options: ArOptions,
): Promise<ArResult> {
  const prompt = conditioning.prompt?.slice(0, 1) ?? [];
  const spec = (codes: number[]) => ({ ...conditioning, prompt, mode: "ar" as const, rvqLevel: 0, response: [codes] });
  const useCfg = (options.cfgStrength ?? 0) > 0;
  const useCache = (options.cache ?? true) && !useCfg;
  const prefix = options.prefix ?? [];
  const codes: number[] = [...prefix];
  const done = (stopped: boolean): ArResult => ({ codes: codes.slice(prefix.length), stopped });
  const mirostat = { mu: 2 * (options.sampler.mirostat?.tau ?? 0) };
  let prefilled: AssembledInput | undefined; // the cached path's prefill, validated once
  for (let step = 1; step <= options.maxFrames; step++) {
    let logits: Float32Array;
    if (useCache) {
      if (prefilled === undefined) {
        prefilled = context.assemble(spec(codes));
        logits = await context.prefill(prefilled, options);
      } else {
        const next = nextArToken(prefilled, step - 2, codes.at(-1) as number, context.profile);
        logits = await context.step(next.rows, next.position, options);
      }
    } else if (useCfg) {
      const input = context.assemble(spec(codes));
      // The reference guides the response rows plus the separator before them, one rescale factor over the block.
      const n = codes.length + 1;
      const positive = { ...input, outputs: n };
      const negative = { ...context.assemble(spec(codes), { cfgNull: true }), outputs: n };
      const both = await context.forward([positive, negative], options);
      const width = input.head.end - input.head.start;
      const guided = cfgLogits(
        both.subarray(0, n * width),
        both.subarray(n * width),
        options.cfgStrength ?? 0,
        options.cfgRescale ?? 0.7,
      );
      logits = guided.subarray((n - 1) * width);
    } else {
      logits = await context.forward([context.assemble(spec(codes))], options);
    }
    const { token } = sampleRow(logits, options.sampler, {
      previous: codes,
      stop: AR_STOP,
      rng: options.rng,
      mirostat,
    });
    options.onProgress?.({ stage: "ar", step, total: options.maxFrames });
    if (token === AR_STOP) return done(true);
    codes.push(token);
  }
  return done(false);
}
