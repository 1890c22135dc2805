/**
 * Vocos (charactr/vocos-encodec-24khz) through the native core: EnCodec codes to 24 kHz audio, on worker threads, in
 * chunks of bounded memory whose results equal the whole signal's. Built from a state dict's tensors (@vall-e/codec
 * reads the hub's pytorch_model.bin); one model serves any number of calls at once.
 */
import { DisposedError, expectInteger, expectThreads, invalid, VallEError } from "@vall-e/core";
import { binding, type NativeVocos, type NativeVocosInfo } from "./binding.js";
import { cancellableCall, InFlightCalls } from "./cancellable.js";
import { checkCodeMatrix } from "./codes.js";
import { type DeviceInfo, nativeIndex, resolveDevice } from "./devices.js";
import { countLive } from "./live.js";

export type VocosInfo = NativeVocosInfo;

/** One state-dict entry: its key, its PyTorch shape (outermost first) and its values, row-major. */
export interface VocosTensorData {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

export interface VocosRunOptions {
  /** Threads (default: physical cores). */
  threads?: number;
  /** Frames per chunk, 1 or more (default 750 = 10 s); only memory and speed change, never the result. */
  chunkFrames?: number;
  /**
   * The bandwidth Vocos conditions on (0 … bandwidths − 1, i.e. 1.5, 3, 6, 12 kbps), for codes of any count up to
   * `codebooks` — the reference decodes every VALL-E output with 2 (vall_e/emb/qnt.py decode). Default: from the
   * codebook count, 2/4/8/16 ↔ 0…3, and any other count is refused.
   */
  bandwidthId?: number;
  signal?: AbortSignal;
}

/** What decode computes: the audio, or an intermediate result (for checks against the reference). */
export const VOCOS_OUTPUTS = { audio: 0, features: 1, backbone: 2 } as const;
export type VocosOutput = keyof typeof VOCOS_OUTPUTS;

/** The codebook counts Vocos has a bandwidth for: 2, 4, 8, 16 (1.5, 3, 6, 12 kbps), as far as the model has them. */
export function vocosCodebookCounts(info: Pick<VocosInfo, "bandwidths" | "codebooks">): number[] {
  const counts: number[] = [];
  for (let id = 0, n = 2; id < info.bandwidths && n <= info.codebooks; id++, n *= 2) counts.push(n);
  return counts;
}

export class VocosModel implements AsyncDisposable {
  readonly info: VocosInfo;
  /** The device its weights and graphs are on. */
  readonly device: DeviceInfo;
  #native: NativeVocos | undefined;
  readonly #inFlight = new InFlightCalls();

  private constructor(native: NativeVocos, device: DeviceInfo) {
    this.#native = native;
    this.device = device;
    this.info = native.info;
    countLive("vocoders", 1);
  }

  /**
   * Build from a state dict (every key of the published checkpoint; shapes and values are validated). `device`
   * (default "cpu"): where the weights and graphs live (resolveDevice).
   */
  static async create(
    tensors: readonly VocosTensorData[],
    source = "Vocos weights",
    options: { device?: string } = {},
  ): Promise<VocosModel> {
    if (!Array.isArray(tensors)) throw invalid("an array of tensors", "tensors", tensors);
    const device = resolveDevice(options.device ?? "cpu");
    try {
      return new VocosModel(
        await binding().createVocos(
          tensors.map((t) => t.name),
          tensors.map((t) => [...t.shape]),
          tensors.map((t) => t.data),
          nativeIndex(device),
        ),
        device,
      );
    } catch (error) {
      if ((error as { code?: unknown }).code === "VALL_E_ERR_INVALID_ARGUMENT") {
        const message = (error as Error).message.replace(/^Vocos weights/, source);
        throw new VallEError("ERR_CODEC_FORMAT", message, { cause: error });
      }
      throw error;
    }
  }

  /** Audio (frames × 320 samples at 24 kHz) for codes [codebooks × frames], codebooks 2, 4, 8 or 16. */
  async decode(codes: Int16Array, codebooks: number, options: VocosRunOptions = {}): Promise<Float32Array> {
    return this.compute(codes, codebooks, "audio", options);
  }

  /** decode, or one of its intermediate results: features [frames × inputChannels], backbone [frames × dim]. */
  async compute(
    codes: Int16Array,
    codebooks: number,
    output: VocosOutput,
    options: VocosRunOptions = {},
  ): Promise<Float32Array> {
    const native = this.#native;
    if (!native) throw new DisposedError("VocosModel");
    if (!(codes instanceof Int16Array)) throw invalid("an Int16Array", "codes", codes);
    const bandwidthId =
      options.bandwidthId === undefined
        ? -1
        : expectInteger(options.bandwidthId, "bandwidthId", 0, this.info.bandwidths - 1);
    if (bandwidthId === -1) {
      const counts = vocosCodebookCounts(this.info);
      if (!counts.includes(codebooks)) {
        throw invalid(`${counts.join(", ")} codebooks (the bandwidths Vocos has)`, "codebooks", codebooks);
      }
    } else expectInteger(codebooks, "codebooks", 1, this.info.codebooks);
    const frames = checkCodeMatrix(codes, codebooks, this.info.bins);
    const which = VOCOS_OUTPUTS[output];
    if (which === undefined) throw invalid(Object.keys(VOCOS_OUTPUTS).join(", "), "output", output);
    const threads = expectThreads(options.threads);
    const chunk = options.chunkFrames === undefined ? 0 : expectInteger(options.chunkFrames, "chunkFrames", 1, 1 << 20);
    const cancel = new Int32Array(new ArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    return this.#inFlight.track(
      cancellableCall(
        options.signal,
        "Vocos",
        () => Atomics.store(cancel, 0, 1),
        () => native.decode(codes, codebooks, frames, which, threads, chunk, cancel, bandwidthId),
      ),
    );
  }

  /** Free the weights. Idempotent; waits for every call in flight. */
  async dispose(): Promise<void> {
    const native = this.#native;
    if (!native) return;
    this.#native = undefined;
    await this.#inFlight.settled();
    native.dispose();
    countLive("vocoders", -1);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
