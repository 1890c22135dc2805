/**
 * @vall-e/lm — the VALL-E language model: GGUF loading with the vocabulary layout recovered and checked, input
 * assembly following the reference exactly, and evaluation on the native ggml decoder (with a KV cache for causal
 * passes). The inference procedures and samplers build on this.
 */

export type { LmDumpedTensor } from "@vall-e/native";
export type { EvaluateOptions, Evaluator, EvaluatorSource } from "./evaluator.js";
export { AR_STOP, type ArOptions, type ArResult, generateAr } from "./inference/ar.js";
export { type BeamOptions, generateArBeam } from "./inference/beam.js";
export {
  type Conditioning,
  forwardEach,
  MAX_SEQUENCES,
  type ProgressEvent,
  type RunOptions,
  type Stage,
} from "./inference/common.js";
export {
  type BatchOptions,
  type BatchRequest,
  DEFAULT_MAX_POSITIONS,
  FRAME_RATE,
  GENERATION_TASKS,
  type GenerateOptions,
  type GenerateResult,
  type GenerationTask,
  generate,
  generateBatch,
  MAX_BATCH,
  MODALITIES,
  type Modality,
  maxPositions,
  PositionsError,
} from "./inference/generate.js";
export { type LengthItem, type LengthPrediction, predictLength, predictLengths } from "./inference/len.js";
export { generateNar, generateNarBatch, type NarItem, type NarOptions } from "./inference/nar.js";
export {
  generateNarLen,
  generateNarLenBatch,
  MASK_TOKEN,
  type NarLenItem,
  type NarLenOptions,
} from "./inference/nar-len.js";
export {
  STT_TOKENS_PER_SECOND,
  sttTokenLimit,
  type TranscribeOptions,
  type TranscribeResult,
  transcribe,
} from "./inference/stt.js";
export {
  type AssembledInput,
  assembleInput,
  type HeadRange,
  type InputSpec,
  MODES,
  type Mode,
  type ModelProfile,
  nextArToken,
  nextOutputToken,
  REFERENCE_PROFILE,
  STT_LEVELS,
  toSequence,
} from "./inputs/assemble.js";
export {
  LanguageModel,
  LanguageModelContext,
  type LanguageModelOptions,
} from "./language-model.js";
export { type GgufTensor, type GgufValue, writeGguf } from "./model/gguf-writer.js";
export {
  CODEBOOK_SIZE,
  KNOWN_LAYOUT,
  LANGUAGES,
  type Language,
  type RowRange,
  RVQ_LEVELS,
  SPECIAL_ROWS,
  TASKS,
  type Task,
} from "./model/layout.js";
export {
  FULL_SHAPE,
  type GgufParts,
  type RandomModelOptions,
  randomModel,
  TINY_SHAPE,
  writeRandomModel,
} from "./model/random-model.js";
export { type Layout, recoverLayout } from "./model/vocabulary.js";
export { exportTokenNames } from "./model/vocabulary-names.js";
export {
  arSampler,
  DEFAULT_SAMPLING,
  NAR_LEN_MIN_CFG,
  narLenSampler,
  narSampler,
  resolveSampling,
  type SamplingOptions,
} from "./sampling/options.js";
export { createRng, drawSeed, MAX_SEED, type Rng } from "./sampling/rng.js";
export {
  argmax,
  categorical,
  dry,
  dynamicTemperature,
  lengthPenalty,
  type MirostatState,
  minP,
  mirostat,
  processLogits,
  type RepetitionAware,
  repetitionPenalty,
  type SampleContext,
  type Sampled,
  type SamplerOptions,
  sampleRow,
  softmax,
  temperature,
  topK,
  topNSigma,
  topP,
} from "./sampling/samplers.js";
export {
  cfgLogits,
  type DurationLimits,
  decodeLength,
  durationFrames,
  LEN_MAX_DIGITS,
  LEN_STOP,
  linspace32,
  type MaskStep,
  maskSchedule,
} from "./sampling/schedule.js";
