/**
 * AR beam search (`vall_e/samplers.py` `top_k_logits_list`): `width` hypotheses, extended together each step; every
 * step takes the `width` best (hypothesis, token) pairs over all hypotheses' processed logits, scored by the
 * hypothesis' score plus the token's processed logit (the reference accumulates logits, not log-probabilities). A
 * hypothesis that emits the stop token is finished and keeps its score; the search ends when the best hypothesis is
 * finished or after `maxFrames` steps, and returns the best one.
 *
 * With the KV cache (default) each open hypothesis has a context of its own: a step appends one token to each (a
 * child takes over its parent's context, a second child of the same parent starts from a copy of it), so a step
 * costs `width` one-token evaluations. Without it every step re-evaluates every hypothesis in one batch.
 */
import type { Evaluator } from "../evaluator.js";
import { type AssembledInput, nextArToken } from "../inputs/assemble.js";
import { processLogits, type SamplerOptions } from "../sampling/samplers.js";
import { AR_STOP, type ArResult } from "./ar.js";
import { type Conditioning, type RunOptions, rowOf } from "./common.js";

export interface BeamOptions extends RunOptions {
  sampler: SamplerOptions;
  width: number;
  maxFrames: number;
  /** Keep a KV cache per hypothesis (default true); false: re-evaluate every hypothesis each step. */
  cache?: boolean;
}

interface Hypothesis {
  codes: number[];
  score: number;
  finished: boolean;
  /** Cached path: the context holding the hypothesis' tokens, and the logits for its next token. */
  slot?: number;
  logits?: Float32Array;
}

export async function generateArBeam(
  context: Evaluator,
  conditioning: Conditioning,
  options: BeamOptions,
): Promise<ArResult & { score: number }> {
  const prompt = conditioning.prompt?.slice(0, 1) ?? [];
  const assemble = (codes: number[]) =>
    context.assemble({ ...conditioning, prompt, mode: "ar", rvqLevel: 0, response: [codes] });
  const cached = options.cache ?? true;
  const slots: Evaluator[] = [context];
  try {
    let beams: Hypothesis[] = [{ codes: [], score: 0, finished: false }];
    // The prefill, assembled and validated once; each cached step appends one token after it (O(1) host work).
    const prefilled = assemble([]);
    if (cached) {
      (beams[0] as Hypothesis).slot = 0;
      (beams[0] as Hypothesis).logits = await context.prefill(prefilled, options);
    }
    for (let step = 1; step <= options.maxFrames; step++) {
      const open = beams.filter((b) => !b.finished);
      let logits: Float32Array[];
      if (cached) logits = open.map((b) => b.logits as Float32Array);
      else {
        const all = await context.forward(
          open.map((b) => assemble(b.codes)),
          options,
        );
        const width = all.length / open.length;
        logits = open.map((_, i) => rowOf(all, i, width));
      }
      const candidates: (Hypothesis & { parent?: Hypothesis })[] = beams.filter((b) => b.finished);
      open.forEach((beam, i) => {
        const row = processLogits(logits[i] as Float32Array, options.sampler, { previous: beam.codes, stop: AR_STOP });
        for (let token = 0; token < row.length; token++) {
          const value = row[token] as number;
          if (!Number.isFinite(value)) continue;
          const stop = token === AR_STOP;
          candidates.push({
            codes: stop ? beam.codes : [...beam.codes, token],
            score: beam.score + value,
            finished: stop,
            parent: beam,
          });
        }
      });
      // Stable: equal scores keep the earlier hypothesis and the lower token first.
      const chosen = candidates.sort((a, b) => b.score - a.score).slice(0, options.width);
      if (cached) await advance(chosen, slots, context, prefilled, options);
      beams = chosen.map(({ parent: _, ...beam }) => beam);
      options.onProgress?.({ stage: "ar", step, total: options.maxFrames });
      if ((beams[0] as Hypothesis).finished) break;
    }
    const best = beams[0] as Hypothesis;
    return { codes: best.codes, stopped: best.finished, score: best.score };
  } finally {
    for (const slot of slots.slice(1)) await slot.dispose();
  }
}

/**
 * Give each newly chosen open hypothesis a context holding its tokens and the logits for its next one: the first child
 * of a parent continues in the parent's context; other children get a free context (one no chosen hypothesis
 * continues in, or a new one) with a copy of the parent's cache — copies first, then one token appended to each.
 */
async function advance(
  chosen: (Hypothesis & { parent?: Hypothesis })[],
  slots: Evaluator[],
  context: Evaluator,
  prefilled: AssembledInput,
  options: RunOptions,
): Promise<void> {
  const growing = chosen.filter((h) => !h.finished);
  const taken = new Set<number>();
  const needsCopy: (Hypothesis & { parent?: Hypothesis })[] = [];
  for (const hypothesis of growing) {
    const parentSlot = hypothesis.parent?.slot as number;
    if (!taken.has(parentSlot)) {
      hypothesis.slot = parentSlot;
      taken.add(parentSlot);
    } else needsCopy.push(hypothesis);
  }
  for (const hypothesis of needsCopy) {
    // Every parent's context is taken by its first child, so an untaken context is no one's parent: free to reuse.
    let free = slots.findIndex((_, i) => !taken.has(i));
    if (free < 0) {
      slots.push(await context.sibling());
      free = slots.length - 1;
    }
    await (slots[free] as Evaluator).copyCacheFrom(slots[hypothesis.parent?.slot as number] as Evaluator);
    hypothesis.slot = free;
    taken.add(free);
  }
  for (const hypothesis of growing) {
    // Its newest token, appended after the prefill and the hypothesis' earlier codes.
    const codes = hypothesis.codes;
    const next = nextArToken(prefilled, codes.length - 1, codes.at(-1) as number, context.profile);
    hypothesis.logits = await (slots[hypothesis.slot as number] as Evaluator).step(next.rows, next.position, options);
  }
}
