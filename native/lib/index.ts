/**
 * @vall-e/native — the one native core of vall-e for Node (ggml on a worker thread), plus the error types and
 * validation helpers every vall-e package shares.
 */

// The shared error classes and checks are @vall-e/core's; re-exported for programs that use the addon alone.
export {
  CancelledError,
  DisposedError,
  describeValue,
  expectFloat32Array,
  expectInteger,
  expectOneOf,
  expectThreads,
  fileReadError,
  fileWriteError,
  InvalidArgumentError,
  invalid,
  VallEError,
  type VallEErrorCode,
  type VallEErrorOptions,
} from "@vall-e/core";
export { measureVectorAddBandwidth, type VectorAddOptions, type VectorAddResult } from "./bandwidth.js";
export {
  DEFAULT_ADDON_PATH,
  loadNativeAddon,
  type NativeBinding,
  type NativeCodec,
  type NativeCodecInfo,
  type NativeDevice,
  type NativeEspeakInfo,
  type NativeMatmul,
  type NativeSystemInfo,
  type NativeVocos,
  type NativeVocosInfo,
  nativeLoadReport,
} from "./binding.js";
export {
  DEVICE_BACKENDS,
  DeviceError,
  type DeviceInfo,
  type DeviceKind,
  listDevices,
  resolveDevice,
} from "./devices.js";
export { type EncodecInfo, EncodecModel, type EncodecRunOptions } from "./encodec.js";
export { fromNative, NativeError, NativeLoadError } from "./errors.js";
export { type EspeakInfo, EspeakUnavailableError, espeakInfo, espeakTextToPhonemes } from "./espeak.js";
export { type LiveNativeObjects, liveNativeObjects } from "./live.js";
export {
  GGML_TYPES,
  type GgmlTypeName,
  type LmActivation,
  LmContext,
  type LmContextOptions,
  type LmDumpedTensor,
  type LmHead,
  type LmInfo,
  LmModel,
  type LmSequence,
  quantize,
} from "./lm.js";
export {
  cpuFlags,
  loadNative,
  NATIVE_VERSION,
  type NativeAttempt,
  type NativeLoadReport,
  type NativeSource,
  type NativeVariant,
  PLATFORM_PACKAGES,
  platformKey,
  probeAddon,
  SOURCE_BUILD_PATH,
} from "./loader.js";
export {
  type MatmulComputeOptions,
  MatmulKernel,
  type MatmulKernelOptions,
  type MatmulOptions,
  type Matrix,
  matmul,
  WEIGHT_TYPES,
  type WeightType,
} from "./matmul.js";
export { type SystemInfo, systemInfo } from "./system-info.js";
export {
  VOCOS_OUTPUTS,
  type VocosInfo,
  VocosModel,
  type VocosOutput,
  type VocosRunOptions,
  type VocosTensorData,
  vocosCodebookCounts,
} from "./vocos.js";
