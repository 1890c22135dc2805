/**
 * generate(): the whole of a VALL-E generation on one context — len → NAR-len → NAR, or AR → NAR
 * (vall_e/models/base.py Base.forward via vall_e/inference.py TTS.inference) — seeded, cancellable, reporting
 * progress. Returns the codes (8 levels × frames) and the seed used. Given a model instead of a context, it runs on a
 * context of its own, sized for the request and freed when the run ends (completed, failed or aborted).
 */
import {
  FRAME_RATE,
  type GenerationTask,
  InvalidArgumentError,
  invalid,
  type Modality,
  REQUEST_SETTINGS,
  settingValue,
  VallEError,
} from "@vall-e/core";
import type { Evaluator, EvaluatorSource } from "../evaluator.js";
import { RVQ_LEVELS } from "../model/layout.js";
import { arSampler, narLenSampler, narSampler, resolveSampling, type SamplingOptions } from "../sampling/options.js";
import { createRng, drawSeed } from "../sampling/rng.js";
import { generateAr } from "./ar.js";
import { generateArBeam } from "./beam.js";
import type { Conditioning, RunOptions } from "./common.js";
import { predictLength } from "./len.js";
import { generateNar } from "./nar.js";
import { generateNarLen } from "./nar-len.js";

export { FRAME_RATE, GENERATION_TASKS, type GenerationTask, MODALITIES, type Modality } from "@vall-e/core";

export interface GenerateOptions extends Omit<Conditioning, "promptTask">, RunOptions {
  /**
   * "tts" (default); "ns" / "sr": the prompt is the noisy audio, sent as the composite prompt [task, codes], and the
   * output has the prompt's length (NAR-len: no len pass). The model must declare the task (LanguageModel.tasks).
   */
  task?: GenerationTask;
  /** Default "nar-len" (the reference's choice for models with a len head). */
  modality?: Modality;
  sampling?: Partial<SamplingOptions>;
  /** 0 … 2³² − 1; drawn (and reported in the result) when absent. */
  seed?: number;
  /** Seconds of output at most (default: REQUEST_SETTINGS.maxDuration). */
  maxDuration?: number;
  /** The highest RVQ level generated (1 … 7, default 7). */
  maxLevels?: number;
  /** NAR-len options beyond the reference's defaults. */
  remask?: boolean;
  scoring?: "probability" | "entropy";
  /**
   * Rolling context (`vall_e/inference.py` `TTS.inference` `context_history`, tts only): earlier utterances' phonemes
   * (with <bos> … </eos>) and level-0 codes. The text becomes theirs followed by this one's (the </eos><bos> between
   * dropped), their codes are the start of the response — fixed in NAR-len, continued from in AR — and are left out of
   * the result. The len pass measures this utterance's text alone.
   */
  history?: { phonemes: readonly number[]; codes: readonly number[] };
}

export interface GenerateResult {
  /** levels × frames EnCodec codes (level 0 first). */
  codes: number[][];
  seed: number;
  modality: Modality;
  /** NAR-len: the frames the len pass predicted (before padding); AR: whether the stop token came. */
  predictedFrames?: number;
  stopped?: boolean;
}

/**
 * Positions an input may take when the model does not say (`llama.context_length`): the published exports'
 * `max_position_embeddings`, 22500 (75 frames/s · 60 s · 5; `vall_e/export.py`).
 */
export const DEFAULT_MAX_POSITIONS = 22_500;

/** An input longer than the model's positions (an InvalidArgumentError: a usage error). */
export class PositionsError extends InvalidArgumentError {}

/**
 * Refuse an input longer than the model's positions before any memory is sized for it (a million phoneme tokens
 * would ask for a cache of gigabytes and end in "out of memory").
 */
function checkPositions(options: GenerateOptions, limit: number): void {
  const text = Array.isArray(options.phonemes) ? options.phonemes.length : 0;
  const history = Array.isArray(options.history?.phonemes) ? options.history.phonemes.length : 0;
  const historyCodes = Array.isArray(options.history?.codes) ? options.history.codes.length : 0;
  const prompt = Array.isArray(options.prompt?.[0]) ? options.prompt[0].length : 0;
  const positions = text + history + historyCodes + prompt;
  if (positions > limit) {
    const rolling = history + historyCodes > 0 ? `, ${history + historyCodes} of them the rolling context` : "";
    throw new PositionsError(
      `The input takes ${positions} positions (${text + history} phoneme tokens, ${prompt + historyCodes} prompt ` +
        `frames${rolling}): more than the ${limit} the model was trained for (llama.context_length) — use shorter ` +
        `sentences or a shorter prompt${rolling ? ", or less rolling context" : ""}`,
    );
  }
}

/** The positions an input may take on `target` (a model or a context): its `llama.context_length`, else the default. */
export function maxPositions(target: Evaluator | EvaluatorSource): number {
  const model = "createContext" in target ? target : (target as { model?: unknown }).model;
  const trained = (model as { info?: { nCtxTrain?: unknown } } | undefined)?.info?.nCtxTrain;
  return typeof trained === "number" && trained > 0 ? trained : DEFAULT_MAX_POSITIONS;
}

/** Generate on `target`: a context (an Evaluator), or a model that makes one for this run. */
export async function generate(
  target: Evaluator | EvaluatorSource,
  options: GenerateOptions & { threads?: number },
): Promise<GenerateResult> {
  if (typeof options !== "object" || options === null) throw invalid("an options object", "options", options);
  checkPositions(options, maxPositions(target));
  if (!("createContext" in target)) return generateOn(target, options);
  const promptFrames = options.prompt?.[0]?.length ?? 0;
  const maxDuration = settingValue(REQUEST_SETTINGS.maxDuration, options.maxDuration, "maxDuration");
  const maxFrames = Math.round(maxDuration * FRAME_RATE);
  // Room for a CFG pair in one forward; beam search keeps one context like this per hypothesis.
  const batch = 2;
  const history = (options.history?.phonemes?.length ?? 0) + (options.history?.codes?.length ?? 0);
  const tokens = (options.phonemes?.length ?? 0) + history + promptFrames + Math.max(maxFrames, 16) + 16;
  const context = await target.createContext({
    contextSize: Math.min(batch * tokens, 2 ** 20),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
  });
  try {
    return await generateOn(context, options);
  } finally {
    await context.dispose();
  }
}

async function generateOn(context: Evaluator, options: GenerateOptions): Promise<GenerateResult> {
  const modality: Modality = settingValue(REQUEST_SETTINGS.modality, options.modality, "modality");
  const task: GenerationTask = settingValue(REQUEST_SETTINGS.task, options.task, "task");
  if (!context.tasks.includes(task)) {
    throw new VallEError(
      "ERR_UNSUPPORTED_TASK",
      `This model does not support the ${task} task (it declares: ${context.tasks.join(", ")})`,
    );
  }
  const sampling = resolveSampling(options.sampling);
  const seed = settingValue(REQUEST_SETTINGS.seed, options.seed, "seed") ?? drawSeed();
  const maxDuration = settingValue(REQUEST_SETTINGS.maxDuration, options.maxDuration, "maxDuration");
  const maxFrames = Math.max(1, Math.round(maxDuration * FRAME_RATE));
  const maxLevels = settingValue(REQUEST_SETTINGS.maxLevels, options.maxLevels, "maxLevels");
  if (!Array.isArray(options.phonemes) || options.phonemes.length < 2) {
    throw invalid("phoneme ids including <bos> and </eos>", "phonemes", options.phonemes);
  }
  const prompt = options.prompt ?? [];
  if (prompt.length > 0 && prompt.length !== RVQ_LEVELS) {
    throw invalid(`a prompt of ${RVQ_LEVELS} codebooks (levels × frames)`, "prompt", `${prompt.length} codebooks`);
  }
  const frames = prompt[0]?.length ?? 0;
  prompt.forEach((level, l) => {
    if (!Array.isArray(level) || level.length !== frames)
      throw invalid(`${frames} frames at every level`, `prompt[${l}]`, level?.length);
    level.forEach((code, t) => {
      if (!Number.isInteger(code) || code < 0 || code > 1023)
        throw invalid("codes from 0 to 1023", `prompt[${l}][${t}]`, code);
    });
  });
  const history = options.history;
  if (history !== undefined) {
    if (task !== "tts") throw new InvalidArgumentError(`A rolling context (history) is for tts, not ${task}`);
    if (modality === "ar+nar" && sampling.beamWidth > 1) {
      throw new InvalidArgumentError("AR beam search does not take a rolling context (history)");
    }
    if (!Array.isArray(history.phonemes) || history.phonemes.length < 2) {
      throw invalid("phoneme ids including <bos> and </eos>", "history.phonemes", history.phonemes);
    }
    if (!Array.isArray(history.codes)) throw invalid("an array of level-0 codes", "history.codes", history.codes);
    history.codes.forEach((code, t) => {
      if (!Number.isInteger(code) || code < 0 || code > 1023)
        throw invalid("codes from 0 to 1023", `history.codes[${t}]`, code);
    });
  }
  if (task !== "tts" && frames === 0) {
    throw new InvalidArgumentError(`The ${task} task needs the noisy audio's codes as the prompt; none was given`);
  }
  // With a history, the text is the earlier utterances' followed by this one's, without the </eos><bos> between.
  const phonemes = history ? [...history.phonemes.slice(0, -1), ...options.phonemes.slice(1)] : options.phonemes;
  const prefix = history?.codes ?? [];
  const conditioning: Conditioning = {
    phonemes,
    lang: options.lang,
    prompt,
    ...(task === "tts" ? {} : { promptTask: task }),
  };
  // The phonemes and language are checked once before the first evaluation.
  context.assemble({ ...conditioning, mode: "len", rvqLevel: 0 });
  const own: Conditioning = { ...conditioning, phonemes: options.phonemes };

  const rng = createRng(seed);
  const run = { signal: options.signal, onProgress: options.onProgress };
  let level0: number[];
  const result: Partial<GenerateResult> = {};
  if (modality === "nar-len") {
    // ns / sr: the output is the prompt's length; tts: the len pass predicts it.
    const length =
      task === "tts"
        ? await predictLength(context, own, { maxFrames }, run)
        : { predicted: frames, frames: Math.min(frames, maxFrames) };
    result.predictedFrames = length.predicted;
    level0 = await generateNarLen(context, conditioning, {
      ...run,
      sampler: (t) => narLenSampler(sampling, t),
      rng,
      frames: length.frames,
      maxSteps: sampling.maxSteps,
      cfgStrength: sampling.cfgStrength,
      cfgRescale: sampling.cfgRescale,
      remask: settingValue(REQUEST_SETTINGS.remask, options.remask, "remask"),
      scoring: settingValue(REQUEST_SETTINGS.scoring, options.scoring, "scoring"),
      prefix,
    });
  } else {
    const ar =
      sampling.beamWidth > 1
        ? await generateArBeam(context, conditioning, {
            ...run,
            sampler: arSampler(sampling),
            width: sampling.beamWidth,
            maxFrames,
          })
        : await generateAr(context, conditioning, {
            ...run,
            sampler: arSampler(sampling),
            rng,
            maxFrames,
            cfgStrength: sampling.cfgStrength,
            cfgRescale: sampling.cfgRescale,
            prefix,
          });
    result.stopped = ar.stopped;
    level0 = ar.codes;
    if (level0.length === 0) throw invalid("at least one frame before the stop token", "the AR output", 0);
  }
  // The NAR fills every level of the whole response (prefix included); the prefix frames are then dropped.
  const full = await generateNar(context, conditioning, [[...prefix, ...level0]], {
    ...run,
    sampler: narSampler(sampling),
    rng,
    maxLevels,
    cfgStrength: sampling.cfgStrength,
    cfgRescale: sampling.cfgRescale,
  });
  const codes = full.map((level) => level.slice(prefix.length));
  return { codes, seed, modality, ...result };
}
