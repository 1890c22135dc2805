/**
 * AR beam search (spec §8 `top_k_logits_list`): `width` hypotheses, extended together each step; every step takes
 * the `width` best (hypothesis, token) pairs over all hypotheses' processed logits, scored by the hypothesis' score
 * plus the token's processed logit (the reference accumulates logits, not log-probabilities). A hypothesis that emits
 * the stop token is finished and keeps its score; the search ends when the best hypothesis is finished or after
 * `maxFrames` steps, and returns the best one. All hypotheses are evaluated in one batch per step, without the KV
 * cache (the cache holds one sequence), so a step costs a forward of every hypothesis.
 */
import type { LanguageModelContext } from "../language-model.js";
import { processLogits, type SamplerOptions } from "../sampling/samplers.js";
import { AR_STOP, type ArResult } from "./ar.js";
import { type Conditioning, type RunOptions, rowOf } from "./common.js";

export interface BeamOptions extends RunOptions {
  sampler: SamplerOptions;
  width: number;
  maxFrames: number;
}

interface Hypothesis {
  codes: number[];
  score: number;
  finished: boolean;
}

export async function generateArBeam(
  context: LanguageModelContext,
  conditioning: Conditioning,
  options: BeamOptions,
): Promise<ArResult & { score: number }> {
  const { model } = context;
  const prompt = conditioning.prompt?.slice(0, 1) ?? [];
  const assemble = (codes: number[]) =>
    model.assemble({ ...conditioning, prompt, mode: "ar", rvqLevel: 0, response: [codes] });
  let beams: Hypothesis[] = [{ codes: [], score: 0, finished: false }];
  for (let step = 1; step <= options.maxFrames; step++) {
    const open = beams.filter((b) => !b.finished);
    const logits = await context.forward(
      open.map((b) => assemble(b.codes)),
      options,
    );
    const width = logits.length / open.length;
    const candidates: Hypothesis[] = beams.filter((b) => b.finished);
    open.forEach((beam, i) => {
      const row = processLogits(rowOf(logits, i, width), options.sampler, { previous: beam.codes, stop: AR_STOP });
      for (let token = 0; token < row.length; token++) {
        const value = row[token] as number;
        if (!Number.isFinite(value)) continue;
        const stop = token === AR_STOP;
        candidates.push({
          codes: stop ? beam.codes : [...beam.codes, token],
          score: beam.score + value,
          finished: stop,
        });
      }
    });
    // Stable: equal scores keep the earlier hypothesis and the lower token first.
    beams = candidates.sort((a, b) => b.score - a.score).slice(0, options.width);
    options.onProgress?.({ stage: "ar", step, total: options.maxFrames });
    if ((beams[0] as Hypothesis).finished) break;
  }
  const best = beams[0] as Hypothesis;
  return { codes: best.codes, stopped: best.finished, score: best.score };
}
