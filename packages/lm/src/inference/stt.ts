/**
 * Speech to phonemes with the same model (the reference's stt task, vall_e/models/ar_nar.py `forward_ar` with
 * task "stt"): the speech's codes as the input, phoneme tokens generated one at a time from the text head, starting
 * after <bos> and ending at </eos> or the length cap. Greedy by default; every sampler of the catalogue applies
 * (sampling.arTemperature and the filters), seeded. With the KV cache the speech is evaluated once and each step
 * appends one token.
 */
import { FRAME_RATE, invalid, type Language, PHONEME_IDS, REQUEST_SETTINGS, settingValue } from "@vall-e/core";
import type { Evaluator, EvaluatorSource } from "../evaluator.js";
import { type AssembledInput, nextOutputToken, STT_LEVELS } from "../inputs/assemble.js";
import { arSampler, resolveSampling, type SamplingOptions } from "../sampling/options.js";
import { createRng, drawSeed } from "../sampling/rng.js";
import { sampleRow } from "../sampling/samplers.js";
import type { RunOptions } from "./common.js";

/** Phoneme tokens per second of speech the default length cap allows (speech has about 12 to 15 phonemes a second). */
export const STT_TOKENS_PER_SECOND = 30;

export interface TranscribeOptions extends RunOptions {
  /** The speech: EnCodec codes, levels × frames (at least 7 levels; level 7 is not used). */
  codes: readonly (readonly number[])[];
  lang: Language;
  /** Tokens generated at most, </eos> included (default 8 + 30 per second of speech, at most 4096). */
  maxTokens?: number;
  /** Sampler settings; arTemperature defaults to 0 here (greedy). */
  sampling?: Partial<SamplingOptions>;
  seed?: number;
  /** Evaluate with the KV cache (default true); false re-evaluates the whole input each step. */
  cache?: boolean;
  /** Only ids below this can be generated (the tokenizer's vocabulary; default the whole 256-row head). */
  vocabularySize?: number;
}

export interface TranscribeResult {
  /** <bos>, the phoneme tokens, and </eos> when it came. */
  tokens: number[];
  /** Whether </eos> ended the output (false: maxTokens reached). */
  stopped: boolean;
  seed: number;
}

/** The default length cap for `frames` frames of speech. */
export function sttTokenLimit(frames: number): number {
  return Math.min(4096, 8 + Math.ceil((frames / FRAME_RATE) * STT_TOKENS_PER_SECOND));
}

/** Transcribe on `target`: a context, or a model that makes one for this run. */
export async function transcribe(
  target: Evaluator | EvaluatorSource,
  options: TranscribeOptions & { threads?: number },
): Promise<TranscribeResult> {
  if (typeof options !== "object" || options === null) throw invalid("an options object", "options", options);
  const codes = options.codes;
  if (!Array.isArray(codes) || codes.length < STT_LEVELS) {
    throw invalid(`speech codes of at least ${STT_LEVELS} levels (levels × frames)`, "codes", codes?.length);
  }
  const frames = codes[0]?.length ?? 0;
  if (frames === 0) throw invalid("at least one frame of speech", "codes", 0);
  const maxTokens = options.maxTokens ?? sttTokenLimit(frames);
  const vocabulary = options.vocabularySize;
  if (vocabulary !== undefined && (!Number.isInteger(vocabulary) || vocabulary < 3 || vocabulary > 256)) {
    throw invalid("an integer from 3 to 256", "vocabularySize", vocabulary);
  }
  if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > 4096) {
    throw invalid("an integer from 1 to 4096", "maxTokens", maxTokens);
  }
  if (!("createContext" in target)) return transcribeOn(target, options, maxTokens);
  const context = await target.createContext({
    contextSize: frames + 8 + maxTokens,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
  });
  try {
    return await transcribeOn(context, options, maxTokens);
  } finally {
    await context.dispose();
  }
}

async function transcribeOn(
  context: Evaluator,
  options: TranscribeOptions,
  maxTokens: number,
): Promise<TranscribeResult> {
  const seed = settingValue(REQUEST_SETTINGS.seed, options.seed, "seed") ?? drawSeed();
  const sampler = arSampler(resolveSampling({ arTemperature: 0, ...options.sampling }));
  const rng = createRng(seed);
  const spec = (phonemes: number[]) =>
    ({ mode: "stt", phonemes, lang: options.lang, rvqLevel: 0, response: options.codes }) as const;
  const tokens: number[] = [PHONEME_IDS.bos];
  const cached = options.cache ?? true;
  let prefilled: AssembledInput | undefined;
  for (let step = 1; step < maxTokens; step++) {
    let logits: Float32Array;
    if (!cached) logits = await context.forward([context.assemble(spec(tokens))], options);
    else if (prefilled === undefined) {
      prefilled = context.assemble(spec(tokens)); // every value checked once, here
      logits = await context.prefill(prefilled, options);
    } else {
      const next = nextOutputToken(prefilled, step - 2, [tokens.at(-1) as number], context.profile);
      logits = await context.step(next.rows, next.position, options);
    }
    if (options.vocabularySize !== undefined) logits.fill(Number.NEGATIVE_INFINITY, options.vocabularySize);
    const { token } = sampleRow(logits, sampler, { previous: tokens.slice(1), stop: PHONEME_IDS.eos, rng });
    tokens.push(token);
    options.onProgress?.({ stage: "stt", step, total: maxTokens - 1 });
    if (token === PHONEME_IDS.eos) return { tokens, stopped: true, seed };
  }
  return { tokens, stopped: false, seed };
}
