/**
 * @vall-e/core — pure TypeScript shared by every vall-e package: the error classes and their codes, the validation
 * helpers and their message form ("Expected … for …, got …"), the model constants, and the one table of defaults.
 * No native code, no I/O.
 */
export {
  CODEBOOK_SIZE,
  FRAME_RATE,
  GENERATION_TASKS,
  type GenerationTask,
  HOP_LENGTH,
  LANGUAGES,
  type Language,
  MODALITIES,
  type Modality,
  PHONEME_IDS,
  RVQ_LEVELS,
  SAMPLE_RATE,
  TASKS,
  type Task,
} from "./constants.js";
export {
  describeDefault,
  GPU_SENTENCE_BATCH,
  MAX_SENTENCE_BATCH,
  NAR_LEN_MIN_CFG,
  RAS_RATIO_SETTING,
  REQUEST_SETTINGS,
  type RequestSettingName,
  type RequestSettings,
  SAMPLING_SETTINGS,
  type SamplingSettingName,
  type Setting,
  settingValue,
} from "./defaults.js";
export {
  CancelledError,
  DisposedError,
  fileReadError,
  fileWriteError,
  InvalidArgumentError,
  jsonErrorPosition,
  VallEError,
  type VallEErrorCode,
  type VallEErrorOptions,
} from "./errors.js";
export { describeKind, readRegularFile, statPathSync, statRegularFile, writeOutputFile } from "./files.js";
export {
  describeValue,
  expectFloat32Array,
  expectInteger,
  expectOneOf,
  expectThreads,
  invalid,
} from "./validate.js";
