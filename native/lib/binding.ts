/**
 * The one hand-written type of everything the native addon exports, and the loader that finds it.
 * Only this package's wrapper classes call the binding; other packages use those wrappers.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { NativeLoadError } from "./errors.js";
import { type LoadedNative, loadNative, type NativeLoadReport, SOURCE_BUILD_PATH } from "./loader.js";

/** What systemInfo() reports (see vall_e_system_info in include/vall_e.h). */
export interface NativeSystemInfo {
  version: string;
  ggmlVersion: string;
  ggmlCommit: string;
  cpuFeatures: string;
  /** The CPU target it was built for: this machine's features (native), or a prebuilt variant. */
  build: "native" | "x86-64-v3" | "avx512" | "armv8";
  physicalCores: number;
  logicalCores: number;
  defaultThreads: number;
  napiVersion: number;
}

/** A weight matrix held in a ggml type (vall_e_matmul). */
export interface NativeMatmul {
  readonly weightBytes: number;
  /** input: [n, k] row-major; resolves to a new [n, m] array. */
  compute(input: Float32Array, n: number, threads: number): Promise<Float32Array>;
  dispose(): void;
}

/** What espeakInit() reports; `languages` holds one "<language>\t<voice identifier>" line per language. */
export interface NativeEspeakInfo {
  version: string;
  dataDir: string;
  languages: string;
}

/** EnCodec weights as the native core reports them (vall_e_codec_info). */
export interface NativeCodecInfo {
  sampleRate: number;
  hopLength: number;
  hiddenDim: number;
  nFilters: number;
  bins: number;
  codebooks: number;
  weightType: "f32" | "f16";
  fileBytes: number;
  /** The device index its weights and graphs are on (devices()), −1 for the CPU. */
  device: number;
}

/**
 * A loaded EnCodec model (vall_e_codec): weights only, so calls may run at the same time (each has its own compute
 * state). Every call takes its own `cancel` flag, an Int32Array of one element: writing a non-zero value into it stops
 * that call only (it rejects with VALL_E_ERR_CANCELLED). dispose() throws VALL_E_ERR_BUSY while a call is in flight.
 */
export interface NativeCodec {
  readonly info: NativeCodecInfo;
  /** samples: 24 kHz mono; resolves to codes [codebooks × ceil(n / 320)], codebook-major. */
  encode(
    samples: Float32Array,
    codebooks: number,
    threads: number,
    chunkFrames: number,
    cancel: Int32Array,
  ): Promise<Int16Array>;
  /** The encoder's latents [frames × hiddenDim], frame-major. */
  encodeLatent(samples: Float32Array, threads: number, chunkFrames: number, cancel: Int32Array): Promise<Float32Array>;
  /** codes [codebooks × frames] → frames × 320 samples. */
  decode(
    codes: Int16Array,
    codebooks: number,
    frames: number,
    threads: number,
    chunkFrames: number,
    cancel: Int32Array,
  ): Promise<Float32Array>;
  dispose(): void;
}

/** Vocos as the native core reports it (vall_e_vocos_info). */
export interface NativeVocosInfo {
  sampleRate: number;
  hopLength: number;
  nFft: number;
  inputChannels: number;
  dim: number;
  intermediateDim: number;
  layers: number;
  /** AdaLayerNorm embeddings: bandwidths it was trained for (2, 4, 8, 16 codebooks). */
  bandwidths: number;
  /** Codebooks in its feature table. */
  codebooks: number;
  bins: number;
  weightBytes: number;
  /** The device index its weights and graphs are on (devices()), −1 for the CPU. */
  device: number;
}

/** A loaded Vocos (vall_e_vocos): weights only, so calls may run at the same time; cancel as for NativeCodec. */
export interface NativeVocos {
  readonly info: NativeVocosInfo;
  /** codes [codebooks × frames] → output 0: frames × 320 samples; 1: features [frames × inputChannels]; 2: backbone [frames × dim]. */
  decode(
    codes: Int16Array,
    codebooks: number,
    frames: number,
    output: number,
    threads: number,
    chunkFrames: number,
    cancel: Int32Array,
    /** -1: from the codebook count (2/4/8/16 ↔ 0…3). */
    bandwidthId: number,
  ): Promise<Float32Array>;
  dispose(): void;
}

/** The decoder's shape as the native core reads it from the GGUF (vall_e_lm_info). */
export interface NativeLmInfo {
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  nFf: number;
  nVocab: number;
  nCtxTrain: number;
  rmsEps: number;
  ropeTheta: number;
  /** ggml type of the attention matrices (0 F32, 1 F16, 8 Q8_0, 12 Q4_K, …). */
  weightType: number;
  fileBytes: number;
  weightBytes: number;
  /** Whether the file holds per-head output biases (vall_e.output_bias). */
  hasOutputBias: boolean;
  /** Bytes of layer matrices repacked at load for the CPU's tiled quantized kernels (0: none). */
  repackedBytes: number;
  /** The device index the model runs on (devices()), −1 for the CPU path. */
  device: number;
  /** Bytes of weights copied into the device's memory (0 on the CPU). */
  deviceBytes: number;
}

/** One compute device (vall_e_device_info). */
export interface NativeDevice {
  index: number;
  name: string;
  description: string;
  backend: string;
  backendIndex: number;
  /** 0 CPU, 1 GPU, 2 integrated GPU, 3 accelerator. */
  type: number;
  software: boolean;
  memoryFree: number;
  memoryTotal: number;
}

/** One sequence of an LM evaluation (vall_e_lm_sequence): token i sums rows rowIds[rowOffsets[i] … rowOffsets[i+1]). */
export interface NativeLmSequence {
  rowOffsets: Int32Array;
  rowIds: Int32Array;
  positions: Int32Array;
  causal: boolean;
  /** Logits for the last `outputs` tokens. */
  outputs: number;
}

export interface NativeLmContext {
  readonly cacheLength: number;
  forward(sequences: NativeLmSequence[], headStart: number, headEnd: number): Promise<Float32Array>;
  cacheAppend(sequence: NativeLmSequence, headStart: number, headEnd: number): Promise<Float32Array>;
  cacheClear(): void;
  cacheCopyFrom(source: NativeLmContext): void;
  cancel(): void;
  setDump(enabled: boolean): void;
  dumped(): NativeLmDumpedTensor[];
  dispose(): void;
}

export interface NativeLmDumpedTensor {
  name: string;
  rows: number;
  columns: number;
  data: Float32Array;
}

export interface NativeLm {
  readonly info: NativeLmInfo;
  /** cacheType: 0 f32, 1 f16. */
  createContext(nCtx: number, threads: number, cacheType: number): Promise<NativeLmContext>;
  dispose(): void;
}

export interface NativeBinding {
  systemInfo(): NativeSystemInfo;
  /** Every compute device of this build, in ggml's registry order. */
  devices(): NativeDevice[];
  /** type: 0 f32, 1 f16, 2 q8_0 (vall_e_type). */
  createMatmul(weights: Float32Array, m: number, k: number, type: number): Promise<NativeMatmul>;
  /** Seconds of the fastest of `iterations` runs of c = a + b over three vectors of `bytes` each. */
  benchVectorAdd(bytes: number, threads: number, iterations: number): Promise<number>;
  /** The system's libespeak-ng, loaded on first use: its path, or why it could not be loaded (what to install). */
  espeakLibrary(): { path?: string; problem?: string };
  /** Initialise espeak-ng once (dataPath: the directory holding espeak-ng-data; default: espeak-ng's own). */
  espeakInit(dataPath?: string): Promise<NativeEspeakInfo>;
  /** Raw IPA per text ('_' between phonemes, clause outputs joined by spaces), in `language`'s first voice. */
  espeakTextToPhonemes(language: string, texts: string[]): Promise<string[]>;
  /** Load encodec.cpp-format EnCodec weights (validated). */
  createCodec(path: string, device?: number): Promise<NativeCodec>;
  /** Build a Vocos from a state dict's tensors (names, PyTorch shapes, f32 row-major data; validated). */
  createVocos(names: string[], shapes: number[][], data: Float32Array[], device?: number): Promise<NativeVocos>;
  /**
   * Load and validate a VALL-E GGUF; activation 0 = exact GELU, 1 = SiLU; headBiases 1 = add the file's; device −1
   * (default) = the CPU, otherwise a devices() index whose memory takes the weights.
   */
  loadLm(path: string, activation: number, headBiases: number, device?: number): Promise<NativeLm>;
  /** ggml's conversion of rows × perRow f32 values to a type (F16, Q8_0, Q4_K, …), as raw bytes. */
  quantize(values: Float32Array, type: number, rows: number, perRow: number): Promise<Uint8Array>;
}

/** Where a source build puts the addon (`vall-e build-native`, or the repository's build). */
export const DEFAULT_ADDON_PATH = SOURCE_BUILD_PATH;

let cached: LoadedNative | undefined;

/**
 * Load the addon at `path` and nothing else. Throws NativeLoadError with code ERR_NATIVE_NOT_BUILT when the file
 * is missing and ERR_NATIVE_LOAD_FAILED when it exists but cannot be loaded.
 */
export function loadNativeAddon(path: string): NativeBinding {
  if (!existsSync(path)) {
    throw new NativeLoadError("ERR_NATIVE_NOT_BUILT", `The vall-e native addon ${path} does not exist.`);
  }
  try {
    const require = createRequire(import.meta.url);
    return require(path) as NativeBinding;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new NativeLoadError(
      "ERR_NATIVE_LOAD_FAILED",
      `The vall-e native addon at ${path} could not be loaded (${reason}). Rebuild it for this machine and Node version with \`vall-e build-native\`.`,
      { cause: error },
    );
  }
}

function loaded(): LoadedNative {
  cached ??= loadNative();
  return cached;
}

/** The process-wide binding, found and loaded on first use (lib/loader.ts: the order, the checks). */
export function binding(): NativeBinding {
  return loaded().binding;
}

/** Which binary this process loaded and why, with every candidate tried before it (loads the addon). */
export function nativeLoadReport(): NativeLoadReport {
  return loaded().report;
}
