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
import { createRng, drawSeed, type Rng } from "../sampling/rng.js";
import { generateAr } from "./ar.js";
import { generateArBeam } from "./beam.js";
import { type Conditioning, MAX_SEQUENCES, type ProgressEvent, type RunOptions } from "./common.js";
import { type LengthPrediction, predictLengths } from "./len.js";
import { generateNarBatch } from "./nar.js";
import { generateNarLenBatch } from "./nar-len.js";

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
  const context = await target.createContext({
    contextSize: Math.min(contextTokens(options), 2 ** 20),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
  });
  try {
    return await generateOn(context, options);
  } finally {
    await context.dispose();
  }
}

/** The most requests one generateBatch takes: each NAR-len step evaluates two sequences (a CFG pair) per request. */
export const MAX_BATCH = MAX_SEQUENCES / 2;

/** One request of a batch: generate()'s options, without the batch's own signal, progress and threads. */
export type BatchRequest = Omit<GenerateOptions, "signal" | "onProgress">;

export interface BatchOptions {
  threads?: number;
  /** Stops every request of the batch. */
  signal?: AbortSignal;
  /** Progress of request `index` (its own stages and steps, as generate() reports them). */
  onProgress?: (index: number, event: ProgressEvent) => void;
  /** How an error names request `index` (default "Request i of n"), e.g. "Sentence 3 of 7". */
  label?: (index: number) => string;
}

/**
 * Several generations together: the len passes, the NAR-len demasking steps and the NAR levels of all of them are
 * evaluated in one batch per step (the AR of ar+nar requests runs request after request, each on a context of its
 * own), so that a device evaluates one large batch instead of many small ones. Each request keeps its own seed and
 * rng, and attention never crosses requests, so each gets what generate() gives it alone with the same options —
 * exactly where every row of a matrix product is computed alike whatever shares it (the CPU's kernels for F32, F16,
 * BF16 and Q8_0 weights: tested; Q3_K: measured), to rounding where not: ggml's repacked CPU kernels for Q4_K (AVX2) and Q2_K (AVX-512)
 * take rows four at a time, and a GPU's kernels depend on the batch's size. At most MAX_BATCH requests; every request
 * is checked before any evaluation, an input error naming it. Rejects as a whole: an aborted signal or a failed
 * evaluation stops them all.
 */
export async function generateBatch(
  model: EvaluatorSource,
  requests: readonly BatchRequest[],
  options: BatchOptions = {},
): Promise<GenerateResult[]> {
  if (typeof options !== "object" || options === null) throw invalid("an options object", "options", options);
  if (!Array.isArray(requests) || requests.length === 0 || requests.length > MAX_BATCH) {
    throw invalid(`from 1 to ${MAX_BATCH} requests`, "requests", Array.isArray(requests) ? requests.length : requests);
  }
  const label = (i: number) => options.label?.(i) ?? `Request ${i + 1} of ${requests.length}`;
  // An error in a request's input names the request (its class and code kept).
  const named = <T>(i: number, check: () => T): T => {
    try {
      return check();
    } catch (error) {
      if (error instanceof InvalidArgumentError) {
        const original = error.message;
        error.message = `${label(i)}: ${original}`;
        if (error.stack) error.stack = error.stack.replace(original, error.message);
      }
      throw error;
    }
  };
  let tokens = 0;
  for (const [i, request] of requests.entries()) {
    tokens += named(i, () => {
      if (typeof request !== "object" || request === null) throw invalid("an options object", "request", request);
      checkPositions(request, maxPositions(model));
      return contextTokens(request);
    });
  }
  const threads = options.threads === undefined ? {} : { threads: options.threads };
  const context = await model.createContext({ contextSize: Math.min(tokens, 2 ** 20), ...threads });
  try {
    const plans = requests.map((request, i) => named(i, () => planOf(context, request)));
    const runs = plans.map((_, i) => ({
      signal: options.signal,
      onProgress: options.onProgress && ((event: ProgressEvent) => options.onProgress?.(i, event)),
    }));
    return await runPlans(context, plans, runs, options.signal, async (plan, work) => {
      // An AR pass holds a KV cache: one request's runs on the batch's context (sized for it alone); in a batch of
      // several, each on a context of its own size, freed when its AR is done.
      if (plans.length === 1) return work(context);
      const own = await model.createContext({
        contextSize: Math.min(contextTokens(plan.options), 2 ** 20),
        ...threads,
      });
      try {
        return await work(own);
      } finally {
        await own.dispose();
      }
    });
  } finally {
    await context.dispose();
  }
}

/**
 * Tokens a context needs for one request (a batch's context: the sum over its requests): a CFG pair (beam search
 * keeps one context like this per hypothesis) of its text, rolling context, prompt and longest response.
 */
function contextTokens(options: BatchRequest): number {
  const promptFrames = options.prompt?.[0]?.length ?? 0;
  const maxDuration = settingValue(REQUEST_SETTINGS.maxDuration, options.maxDuration, "maxDuration");
  const maxFrames = Math.round(maxDuration * FRAME_RATE);
  const history = (options.history?.phonemes?.length ?? 0) + (options.history?.codes?.length ?? 0);
  return 2 * ((options.phonemes?.length ?? 0) + history + promptFrames + Math.max(maxFrames, 16) + 16);
}

/** A request checked and resolved: what its stages need. */
interface Plan {
  options: BatchRequest;
  modality: Modality;
  task: GenerationTask;
  sampling: SamplingOptions;
  seed: number;
  maxFrames: number;
  maxLevels: number;
  /** Frames of the prompt (ns / sr: the output's length). */
  frames: number;
  conditioning: Conditioning;
  /** The conditioning with this utterance's own text (the len pass measures it without the rolling context). */
  own: Conditioning;
  prefix: readonly number[];
  rng: Rng;
}

async function generateOn(context: Evaluator, options: GenerateOptions): Promise<GenerateResult> {
  const plan = planOf(context, options);
  const run = { signal: options.signal, onProgress: options.onProgress };
  const [result] = await runPlans(context, [plan], [run], options.signal, (_, work) => work(context));
  return result as GenerateResult;
}

/** Check one request's options (nothing is evaluated) and resolve what its stages need. */
function planOf(context: Evaluator, options: BatchRequest): Plan {
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

  return {
    options,
    modality,
    task,
    sampling,
    seed,
    maxFrames,
    maxLevels,
    frames,
    conditioning,
    own,
    prefix,
    rng: createRng(seed),
  };
}

/**
 * The stages of planned requests on `context`, batched: NAR-len's len passes, then its demasking, together; each AR
 * (or beam search) in turn on the context `arContext` lends it; then every request's NAR levels together.
 */
async function runPlans(
  context: Evaluator,
  plans: readonly Plan[],
  runs: readonly RunOptions[],
  signal: AbortSignal | undefined,
  arContext: <T>(plan: Plan, work: (context: Evaluator) => Promise<T>) => Promise<T>,
): Promise<GenerateResult[]> {
  const results: Partial<GenerateResult>[] = plans.map((plan) => ({ seed: plan.seed, modality: plan.modality }));
  const level0: number[][] = plans.map(() => []);
  const narLen = plans.map((plan, i) => ({ plan, i })).filter(({ plan }) => plan.modality === "nar-len");
  // ns / sr: the output is the prompt's length; tts: the len pass predicts it.
  const measured = narLen.filter(({ plan }) => plan.task === "tts");
  const lengths = await predictLengths(
    context,
    measured.map(({ plan, i }) => ({
      conditioning: plan.own,
      limits: { maxFrames: plan.maxFrames },
      onProgress: runs[i]?.onProgress,
    })),
    { signal },
  );
  const frames = new Map<number, { predicted: number; frames: number }>();
  for (const [k, { i }] of measured.entries()) frames.set(i, lengths[k] as LengthPrediction);
  for (const { plan, i } of narLen) {
    if (!frames.has(i)) frames.set(i, { predicted: plan.frames, frames: Math.min(plan.frames, plan.maxFrames) });
  }
  const demasked = await generateNarLenBatch(
    context,
    narLen.map(({ plan, i }) => {
      const length = frames.get(i) as { predicted: number; frames: number };
      (results[i] as Partial<GenerateResult>).predictedFrames = length.predicted;
      const { sampling } = plan;
      return {
        conditioning: plan.conditioning,
        options: {
          ...runs[i],
          sampler: (t: number) => narLenSampler(sampling, t),
          rng: plan.rng,
          frames: length.frames,
          maxSteps: sampling.maxSteps,
          cfgStrength: sampling.cfgStrength,
          cfgRescale: sampling.cfgRescale,
          remask: settingValue(REQUEST_SETTINGS.remask, plan.options.remask, "remask"),
          scoring: settingValue(REQUEST_SETTINGS.scoring, plan.options.scoring, "scoring"),
          prefix: plan.prefix,
        },
      };
    }),
    { signal },
  );
  narLen.forEach(({ i }, k) => {
    level0[i] = demasked[k] as number[];
  });
  for (const [i, plan] of plans.entries()) {
    if (plan.modality === "nar-len") continue;
    const { sampling } = plan;
    const run = runs[i] as RunOptions;
    const ar = await arContext(plan, (own) =>
      sampling.beamWidth > 1
        ? generateArBeam(own, plan.conditioning, {
            ...run,
            sampler: arSampler(sampling),
            width: sampling.beamWidth,
            maxFrames: plan.maxFrames,
          })
        : generateAr(own, plan.conditioning, {
            ...run,
            sampler: arSampler(sampling),
            rng: plan.rng,
            maxFrames: plan.maxFrames,
            cfgStrength: sampling.cfgStrength,
            cfgRescale: sampling.cfgRescale,
            prefix: plan.prefix,
          }),
    );
    (results[i] as Partial<GenerateResult>).stopped = ar.stopped;
    if (ar.codes.length === 0) throw invalid("at least one frame before the stop token", "the AR output", 0);
    level0[i] = ar.codes;
  }
  // The NAR fills every level of the whole response (prefix included); the prefix frames are then dropped.
  const full = await generateNarBatch(
    context,
    plans.map((plan, i) => ({
      conditioning: plan.conditioning,
      levels: [[...plan.prefix, ...(level0[i] as number[])]],
      options: {
        ...runs[i],
        sampler: narSampler(plan.sampling),
        rng: plan.rng,
        maxLevels: plan.maxLevels,
        cfgStrength: plan.sampling.cfgStrength,
        cfgRescale: plan.sampling.cfgRescale,
      },
    })),
    { signal },
  );
  return plans.map((plan, i) => {
    const codes = (full[i] as number[][]).map((level) => level.slice(plan.prefix.length));
    const { seed, modality, ...rest } = results[i] as Omit<GenerateResult, "codes">;
    return { codes, seed, modality, ...rest };
  });
}
