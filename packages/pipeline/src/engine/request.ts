/**
 * A request to the engine and its resolution: every option filled in from the one table of defaults (@vall-e/core
 * REQUEST_SETTINGS, SAMPLING_SETTINGS) and checked — once, before anything is read, loaded or computed — into a
 * fully specified request that the rest of the pipeline trusts.
 */
import type { CodesArtifact } from "@vall-e/codec";
import {
  type GenerationTask,
  InvalidArgumentError,
  invalid,
  type Language,
  type Modality,
  REQUEST_SETTINGS,
  settingValue,
} from "@vall-e/core";
import { resolveSampling, type SamplingOptions } from "@vall-e/lm";
import type { PhonemeArtifact } from "@vall-e/phonemizer";
import type { SpeechChunk } from "./chunks.js";
import type { Voice } from "./voice.js";

/** Audio in memory: mono samples at any rate (resampled to 24 kHz for the codec). */
export interface RawAudio {
  samples: Float32Array;
  sampleRate: number;
}

/**
 * A voice reference: a file (WAV, or codes .npy / .json / .enc), samples in memory, a reference's codes, or a
 * prepared Voice.
 */
export type ReferenceInput = string | RawAudio | CodesArtifact | Voice;

export type PipelineStage = "phonemize" | "prompt" | "len" | "ar" | "nar-len" | "nar" | "stt" | "decode";

export interface PipelineProgress {
  stage: PipelineStage;
  /** 0-based sentence index (the prompt stage: 0; a batch's len, nar-len and nar steps: its first sentence). */
  sentence: number;
  sentences: number;
  step: number;
  total: number;
  /**
   * Sentences generated together (sentenceBatch), when more than one: `count` sentences from `first` on. Their len
   * digits, NAR-len steps and NAR levels are one event per step for the whole batch (sentence = first); their AR
   * steps, run sentence after sentence, are each sentence's own.
   */
  batch?: { first: number; count: number };
}

/** The generation settings of a request; each absent one takes its default from REQUEST_SETTINGS. */
export interface GenerationSettings {
  /** "tts" (default), or "ns" / "sr": clean / remove the speech of the reference, as long as it is. */
  task?: GenerationTask;
  /** Default "auto" (detected per text). */
  language?: Language | "auto";
  modality?: Modality;
  sampling?: Partial<SamplingOptions>;
  /** Seed of the first sentence; sentence i uses seed + i. Drawn when absent (reported in the result). */
  seed?: number;
  /** Longest output of one sentence, in seconds. */
  maxDuration?: number;
  maxLevels?: number;
  /** Prompt length in seconds (0: the references as they are). tts only. */
  promptSeconds?: number;
  /** NAR-len: remask 1/(2·steps) more positions per step; confidence by "probability" or "entropy". */
  remask?: boolean;
  scoring?: "probability" | "entropy";
  /** Silence between sentences in seconds. */
  sentencePause?: number;
  /**
   * Rolling context (off by default): each sentence is generated as the continuation of the previous n — their
   * phonemes before its own, their level-0 codes at the start of the response, left out of its audio.
   */
  contextHistory?: number;
  /**
   * Sentences generated together (0, the default: auto — GPU_SENTENCE_BATCH on a GPU, 1 on the CPU or a software
   * device; a stream on a GPU speaks its first sentence alone): their len passes, NAR-len steps and NAR levels
   * evaluated in one batch per step. Each sentence gets the codes it gets alone (on the CPU exactly for F32, F16, BF16
   * and Q8_0 weights; Q4_K, Q2_K and a GPU's kernels may round a batch differently); a batch's first audio comes when
   * the whole batch is generated. With contextHistory sentences follow one another, so it is 1.
   */
  sentenceBatch?: number;
}

/** What a request names about its inputs in run.json (filled by the one-shot functions, which know the paths). */
export interface InputRecord {
  /** The file the text was read from: run.json records it with its SHA-256. */
  textFile?: string;
  reference?: string[];
  promptCodes?: string;
  phonemes?: string[];
  responseCodes?: string[];
}

export interface SpeechRequest extends GenerationSettings {
  /** The text; split into sentences for tts. Not needed when starting from `phonemes` or `responseCodes`. */
  text?: string;
  /** Start from phoneme artifacts (one per sentence) instead of the text. */
  phonemes?: readonly PhonemeArtifact[];
  /** Start from response codes (one artifact per sentence): only decoding runs. */
  responseCodes?: readonly CodesArtifact[];
  /** Voice references; none: no prompt. ns / sr: the noisy audio. */
  reference?: ReferenceInput | readonly ReferenceInput[];
  /** The prepared prompt, used as it is — instead of `reference`. */
  promptCodes?: CodesArtifact;
  /** Write every stage's artifact and a run.json here. */
  artifactsDir?: string;
  /** @internal how run.json names the inputs (the one-shot functions pass the files they read). */
  record?: InputRecord;
  signal?: AbortSignal;
  onProgress?: (event: PipelineProgress) => void;
  /** Called with each sentence's audio as soon as it is decoded (awaited), e.g. to stream it out. */
  onChunk?: (chunk: SpeechChunk) => void | Promise<void>;
}

/** A request with every setting resolved. */
export interface ResolvedSettings {
  task: GenerationTask;
  language: Language | "auto";
  modality: Modality;
  /** The sampler settings as given (checked; the defaults are filled in by @vall-e/lm). */
  sampling: Partial<SamplingOptions>;
  seed: number | undefined;
  maxDuration: number;
  maxLevels: number;
  promptSeconds: number;
  remask: boolean;
  scoring: "probability" | "entropy";
  sentencePause: number;
  contextHistory: number;
  /** 0: auto (the engine's device decides). */
  sentenceBatch: number;
}

/** What resolveRequest looks at: the settings, and which inputs are given (artifacts, or the files naming them). */
export type RequestShape = GenerationSettings & {
  text?: unknown;
  phonemes?: readonly unknown[];
  responseCodes?: readonly unknown[];
  reference?: unknown;
  promptCodes?: unknown;
};

/** The input a request starts from. */
export type RequestSource = "text" | "phonemes" | "responseCodes";

/**
 * Check a request and fill in every default. Throws an InvalidArgumentError naming the first bad option; nothing has
 * been read or loaded yet.
 */
export function resolveRequest(request: RequestShape): { source: RequestSource; settings: ResolvedSettings } {
  if (typeof request !== "object" || request === null) throw invalid("an options object", "options", request);
  const task = settingValue(REQUEST_SETTINGS.task, request.task, "task");
  const sources = (
    [
      request.text !== undefined && "text",
      request.phonemes !== undefined && "phonemes",
      request.responseCodes !== undefined && "responseCodes",
    ] as const
  ).filter((s): s is RequestSource => s !== false);
  if (sources.length === 0) throw new InvalidArgumentError("Give the text, its phonemes or the response codes");
  if (sources.length > 1) {
    throw new InvalidArgumentError(`Give one of text, phonemes and responseCodes, not ${sources.join(" and ")}`);
  }
  if (request.text !== undefined && typeof request.text !== "string") throw invalid("a string", "text", request.text);
  for (const key of ["phonemes", "responseCodes"] as const) {
    const list = request[key];
    if (list !== undefined && (!Array.isArray(list) || list.length === 0)) {
      throw invalid("a non-empty list of artifacts", key, list);
    }
  }
  if (request.reference !== undefined && request.promptCodes !== undefined) {
    throw new InvalidArgumentError(
      "Give the voice either as references (reference / --prompt) or as prepared prompt codes (promptCodes / --prompt-codes), not both",
    );
  }
  const settings: ResolvedSettings = {
    task,
    language: settingValue(REQUEST_SETTINGS.language, request.language, "language"),
    modality: settingValue(REQUEST_SETTINGS.modality, request.modality, "modality"),
    sampling: request.sampling ?? {},
    seed: settingValue(REQUEST_SETTINGS.seed, request.seed, "seed"),
    maxDuration: settingValue(REQUEST_SETTINGS.maxDuration, request.maxDuration, "maxDuration"),
    maxLevels: settingValue(REQUEST_SETTINGS.maxLevels, request.maxLevels, "maxLevels"),
    promptSeconds: settingValue(REQUEST_SETTINGS.promptSeconds, request.promptSeconds, "promptSeconds"),
    remask: settingValue(REQUEST_SETTINGS.remask, request.remask, "remask"),
    scoring: settingValue(REQUEST_SETTINGS.scoring, request.scoring, "scoring"),
    sentencePause: settingValue(REQUEST_SETTINGS.sentencePause, request.sentencePause, "sentencePause"),
    contextHistory: settingValue(REQUEST_SETTINGS.contextHistory, request.contextHistory, "contextHistory"),
    sentenceBatch: settingValue(REQUEST_SETTINGS.sentenceBatch, request.sentenceBatch, "sentenceBatch"),
  };
  resolveSampling(settings.sampling); // every sampler value checked now, not after the models are loaded
  if (settings.contextHistory > 0 && task !== "tts") {
    throw new InvalidArgumentError("contextHistory is for tts (ns / sr speak one utterance)");
  }
  if (settings.contextHistory > 0 && settings.sentenceBatch > 1) {
    throw new InvalidArgumentError(
      `sentenceBatch ${settings.sentenceBatch} and contextHistory ${settings.contextHistory} do not go together: with a rolling context each sentence continues from the ones before it, so they are generated one by one (sentenceBatch 0 or 1)`,
    );
  }
  const hasVoice =
    request.promptCodes !== undefined || (request.reference !== undefined && [request.reference].flat().length > 0);
  if (task !== "tts" && !hasVoice) {
    throw new InvalidArgumentError(`The ${task} task needs the noisy audio as the reference (--prompt)`);
  }
  return { source: sources[0] as RequestSource, settings };
}
