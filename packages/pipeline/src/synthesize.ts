/**
 * The one-shot functions: synthesize() and synthesizeStream() load an Engine with the files a request needs, run
 * that one request, and free the models — for a script that speaks once. Inputs are files: references (WAV or codes),
 * and any stage's artifacts to start from (`phonemes`, `promptCodes`, `responseCodes`); run.json names them. A
 * long-lived program keeps an Engine instead (engine/engine.ts).
 */
import { type CodesArtifact, readCodes, type SAMPLE_RATE } from "@vall-e/codec";
import { expectOneOf, InvalidArgumentError, invalid } from "@vall-e/core";
import { resolveDevice } from "@vall-e/native";
import { type PhonemeArtifact, readPhonemeArtifact } from "@vall-e/phonemizer";
import type { SpeechChunk, SpeechResult } from "./engine/chunks.js";
import { DECODER_ROLES, DECODERS, DEFAULT_DECODER, type DecoderName } from "./engine/decoder.js";
import { Engine, type ModelFiles } from "./engine/engine.js";
import {
  type GenerationSettings,
  type InputRecord,
  type PipelineProgress,
  type ReferenceInput,
  resolveRequest,
  type SpeechRequest,
} from "./engine/request.js";
import type { ModelRole } from "./models/bundle.js";

export type { ModelFiles } from "./engine/engine.js";
export type { PipelineProgress, PipelineStage } from "./engine/request.js";
export type { RunManifest } from "./run-manifest.js";

export interface SynthesizeOptions extends GenerationSettings {
  /** The text; split into sentences for tts. Not needed when starting from `phonemes` or `responseCodes`. */
  text?: string;
  /** The file `text` was read from (a regular file): run.json records it with its SHA-256, and a replay checks it. */
  textFile?: string;
  /**
   * The model files. Only those the run needs: the tokenizer to phonemize, the LM to generate, the codec to encode
   * references, the decoder's weights (Vocos', or the codec for EnCodec's decoder) to decode.
   */
  models: Partial<ModelFiles>;
  /** Voice references: WAV files or codes files (.npy, .json, .enc) — or anything Engine takes; none: no prompt. */
  reference?: ReferenceInput | readonly ReferenceInput[];
  /** The prepared prompt (a prompt.codes artifact), used as it is — instead of `reference`. */
  promptCodes?: string;
  /** Start from the phonemize stage's artifacts (one .phonemes.json per sentence) instead of the text. */
  phonemes?: readonly string[];
  /** Start from the generate stage's artifacts (one codes file per sentence): only decoding runs. */
  responseCodes?: readonly string[];
  artifactsDir?: string;
  threads?: number;
  /** Where the LM runs: "auto" (default), "cpu", "vulkan[:N]", "cuda[:N]" (Engine.load). */
  device?: string;
  /** Codes to audio through "vocos" (default, as the reference; needs `models.vocos`) or "encodec" (`models.codec`). */
  decoder?: DecoderName;
  signal?: AbortSignal;
  onProgress?: (event: PipelineProgress) => void;
  /** synthesize: called with each sentence's audio as soon as it is decoded (awaited), e.g. to stream it out. */
  onChunk?: (chunk: SpeechChunk) => void | Promise<void>;
}

export type SynthesizeResult = SpeechResult & { sampleRate: typeof SAMPLE_RATE };

export async function synthesize(options: SynthesizeOptions): Promise<SynthesizeResult> {
  const { need, request } = await prepare(options);
  await using engine = await Engine.load(loadOptions(options, need));
  return (await engine.synthesize(request)) as SynthesizeResult;
}

/**
 * The sentences spoken one by one, as soon as each is decoded, so playback can start before the whole text is done.
 * With `artifactsDir`, each sentence's artifacts and the prompt codes are written as they come (output.wav and
 * run.json are synthesize's). Models are freed when the iteration ends, also when the consumer stops early.
 */
export async function* synthesizeStream(options: SynthesizeOptions): AsyncGenerator<SpeechChunk> {
  const { need, request } = await prepare(options);
  await using engine = await Engine.load(loadOptions(options, need));
  yield* engine.stream(request);
}

function loadOptions(options: SynthesizeOptions, need: ModelRole[]) {
  return {
    models: options.models,
    need,
    ...(options.decoder === undefined ? {} : { decoder: options.decoder }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.device === undefined ? {} : { device: options.device }),
    ...(options.signal ? { signal: options.signal } : {}),
  };
}

const pathList = (value: unknown): value is readonly string[] =>
  Array.isArray(value) && value.length > 0 && value.every((p) => typeof p === "string");

/** Check the options (nothing read yet), then read the artifacts they name: the engine request and the models. */
async function prepare(options: SynthesizeOptions): Promise<{ need: ModelRole[]; request: SpeechRequest }> {
  if (typeof options !== "object" || options === null) throw invalid("an options object", "options", options);
  for (const key of ["phonemes", "responseCodes"] as const) {
    if (options[key] !== undefined && !pathList(options[key])) {
      throw invalid("a non-empty list of file paths", key, options[key]);
    }
  }
  for (const key of ["promptCodes", "textFile"] as const) {
    if (options[key] !== undefined && (typeof options[key] !== "string" || options[key] === "")) {
      throw invalid("a file path", key, options[key]);
    }
  }
  if (options.textFile !== undefined && options.text === undefined) {
    throw new InvalidArgumentError("textFile names the file the text was read from: give the text too");
  }
  const {
    models,
    threads: _threads,
    device,
    decoder: _decoder,
    reference,
    promptCodes,
    phonemes,
    responseCodes,
    textFile,
    ...rest
  } = options;
  // Every option checked before a file is read or a model loaded: the device too (this build must have it).
  resolveRequest(options);
  if (device !== undefined) resolveDevice(device);
  const decoder = expectOneOf(options.decoder ?? DEFAULT_DECODER, "decoder", DECODERS);
  if (typeof models !== "object" || models === null) throw invalid("an object of file paths", "models", models);
  // The decoder's weights; the codec to encode voice references; the LM unless only decoding; the tokenizer for text.
  const need: ModelRole[] = [DECODER_ROLES[decoder]];
  // Audio references (files, espeak:<voice>, samples) are encoded; codes files and Voices are not.
  const encodes = [reference ?? []]
    .flat()
    .some((r) => (typeof r === "string" ? !/\.(npy|json|enc)$/i.test(r) : "samples" in (r as object)));
  if (responseCodes === undefined && promptCodes === undefined && encodes && !need.includes("codec"))
    need.push("codec");
  if (responseCodes === undefined) need.push("lm");
  if (options.text !== undefined) need.push("tokenizer");
  for (const key of need) {
    if (typeof models[key] !== "string" || models[key] === "")
      throw invalid("a file path", `models.${key}`, models[key]);
  }

  const record: InputRecord = textFile === undefined ? {} : { textFile };
  const references = reference === undefined ? [] : [reference].flat();
  if (references.every((r) => typeof r === "string")) record.reference = references as string[];
  const request: SpeechRequest = { ...rest, record };
  if (reference !== undefined) request.reference = reference;
  if (promptCodes !== undefined) {
    request.promptCodes = await readCodes(promptCodes);
    record.promptCodes = promptCodes;
  }
  if (phonemes !== undefined) {
    const artifacts: PhonemeArtifact[] = [];
    for (const path of phonemes) artifacts.push(await readPhonemeArtifact(path));
    request.phonemes = artifacts;
    record.phonemes = [...phonemes];
  }
  if (responseCodes !== undefined) {
    const artifacts: CodesArtifact[] = [];
    for (const path of responseCodes) artifacts.push(await readCodes(path));
    request.responseCodes = artifacts;
    record.responseCodes = [...responseCodes];
  }
  return { need, request };
}
