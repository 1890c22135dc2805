/**
 * @vall-e/pipeline — the stages composed into text-to-speech, with artifacts between them, model bundles (resolution,
 * download cache, the offline `tiny` bundle), long text, progress and cancellation.
 */

// What a client of the engine (a server, a batch worker) needs from the layers below, so it depends on this package only.
export {
  codesFromLevels,
  codesToLevels,
  decodeAudio,
  encodeWav,
  parseWav,
  pcm16Bytes,
  SAMPLE_RATE,
  streamingWavHeader,
  toPcm16,
} from "@vall-e/codec";
export {
  CancelledError,
  DisposedError,
  describeDefault,
  expectFloat32Array,
  expectInteger,
  expectOneOf,
  FRAME_RATE,
  GPU_SENTENCE_BATCH,
  InvalidArgumentError,
  invalid,
  MAX_SENTENCE_BATCH,
  REQUEST_SETTINGS,
  SAMPLING_SETTINGS,
  type Setting,
  settingValue,
  VallEError,
} from "@vall-e/core";
export { type LiveNativeObjects, liveNativeObjects } from "@vall-e/native";
export type { SentenceRecord, SpeechChunk, SpeechResult } from "./engine/chunks.js";
export {
  DECODER_ROLES,
  DECODERS,
  DEFAULT_DECODER,
  type DecodeOptions,
  type Decoder,
  type DecoderName,
  EncodecDecoder,
  VocosDecoder,
} from "./engine/decoder.js";
export {
  Engine,
  type EngineLoadOptions,
  type EngineLoadProgress,
  type ModelFiles,
  type TranscribeOutcome,
  type TranscribeRequest,
} from "./engine/engine.js";
export {
  type GenerationSettings,
  type InputRecord,
  type PipelineProgress,
  type PipelineStage,
  type RawAudio,
  type ReferenceInput,
  type RequestShape,
  type ResolvedSettings,
  resolveRequest,
  type SpeechRequest,
} from "./engine/request.js";
export { prepareVoice, Voice } from "./engine/voice.js";
export {
  type EvaluateOptions,
  type EvaluationItem,
  type EvaluationSummary,
  evaluate,
} from "./eval/evaluate.js";
export { editDistance, phonemeErrorRate } from "./eval/phoneme-error-rate.js";
export { makeDirectory } from "./files/make-directory.js";
export {
  type BundleFile,
  bundleFiles,
  checkQuant,
  DEFAULT_QUANT,
  locateModelFile,
  MODEL_ROLES,
  type ModelRole,
  type ModelSource,
  pullBundleFile,
  QUANTS,
  type Quant,
  type ResolvedModels,
  type ResolveModelsOptions,
  resolveModels,
  toQuant,
  VOCOS_REPO,
} from "./models/bundle.js";
export { type ModelDirectories, modelDirectories } from "./models/directories.js";
export {
  checksumOf,
  DEFAULT_ENDPOINT,
  type DownloadProgress,
  type DownloadRecord,
  HUB_REPO,
  type HubFile,
  type HubOptions,
  hubOptionsFromEnv,
  NetworkError,
  type PulledFile,
  type PullOptions,
  pullFile,
  type RemoteChecksum,
  readDownloadRecord,
} from "./models/hub.js";
export { TINY_MODEL, TINY_VERSION, type TinyBundle, tinyBundle, tinyTokenizerJson } from "./models/tiny.js";
export { PROMPT_FRAME_RATE, type PromptCodes, preparePrompt } from "./prompt/prepare.js";
export { ReplayError, type ReplayOverrides, readRunManifest, replay } from "./replay.js";
export type { RunManifest } from "./run-manifest.js";
export {
  type SynthesizeOptions,
  type SynthesizeResult,
  synthesize,
  synthesizeStream,
} from "./synthesize.js";
