/**
 * EnCodec 24 kHz through the native core: encode audio to RVQ codes and decode codes to audio, on worker threads, in
 * chunks of bounded memory whose results equal the whole signal's. One model serves any number of calls at once
 * (each has its own compute state; their graphs take turns on the process's thread pool). @vall-e/codec builds the
 * user-facing Codec (bandwidths, WAV, artifacts) on this class.
 */
import { existsSync } from "node:fs";
import { DisposedError, expectFloat32Array, expectInteger, expectThreads, invalid, VallEError } from "@vall-e/core";
import { binding, type NativeCodec, type NativeCodecInfo } from "./binding.js";
import { cancellableCall, InFlightCalls } from "./cancellable.js";
import { checkCodeMatrix } from "./codes.js";
import { type DeviceInfo, nativeIndex, resolveDevice } from "./devices.js";
import { countLive } from "./live.js";

export interface EncodecRunOptions {
  /** Threads (default: physical cores). */
  threads?: number;
  /** Frames per chunk, 8 or more (default 375 = 5 s); only memory and speed change, never the result. */
  chunkFrames?: number;
  signal?: AbortSignal;
}

export type EncodecInfo = NativeCodecInfo;

export class EncodecModel implements AsyncDisposable {
  readonly path: string;
  readonly info: EncodecInfo;
  /** The device its weights and graphs are on. */
  readonly device: DeviceInfo;
  #native: NativeCodec | undefined;
  readonly #inFlight = new InFlightCalls();

  private constructor(native: NativeCodec, path: string, device: DeviceInfo) {
    this.#native = native;
    this.device = device;
    this.path = path;
    this.info = native.info;
    countLive("codecs", 1);
  }

  /**
   * Load encodec.cpp-format weights (f32 or f16); every header field and tensor is validated. `device` (default
   * "cpu"): where the weights and graphs live (resolveDevice); the LSTM recurrence and the quantizer stay on the CPU.
   */
  static async load(path: string, options: { device?: string } = {}): Promise<EncodecModel> {
    if (typeof path !== "string" || path === "") throw invalid("a file path", "path", path);
    if (!existsSync(path)) throw new VallEError("ERR_FILE_NOT_FOUND", `EnCodec weights not found: ${path}`);
    const device = resolveDevice(options.device ?? "cpu");
    try {
      return new EncodecModel(await binding().createCodec(path, nativeIndex(device)), path, device);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === "VALL_E_ERR_INVALID_ARGUMENT") {
        throw new VallEError("ERR_CODEC_FORMAT", (error as Error).message, { cause: error });
      }
      throw error;
    }
  }

  /** Codes [codebooks × ceil(samples / 320)] (codebook-major) for 24 kHz mono samples. */
  async encode(samples: Float32Array, codebooks: number, options: EncodecRunOptions = {}): Promise<Int16Array> {
    expectFloat32Array(samples, "samples");
    if (samples.length === 0) throw invalid("at least one sample", "samples", samples);
    expectInteger(codebooks, "codebooks", 1, this.info.codebooks);
    return this.#run(options, (native, threads, chunk, cancel) =>
      native.encode(samples, codebooks, threads, chunk, cancel),
    );
  }

  /** The encoder's latents [frames × hiddenDim] (frame-major), before quantization. */
  async encodeLatent(samples: Float32Array, options: EncodecRunOptions = {}): Promise<Float32Array> {
    expectFloat32Array(samples, "samples");
    if (samples.length === 0) throw invalid("at least one sample", "samples", samples);
    return this.#run(options, (native, threads, chunk, cancel) => native.encodeLatent(samples, threads, chunk, cancel));
  }

  /** Audio (frames × 320 samples at 24 kHz) for codes [codebooks × frames]. */
  async decode(codes: Int16Array, codebooks: number, options: EncodecRunOptions = {}): Promise<Float32Array> {
    if (!(codes instanceof Int16Array)) throw invalid("an Int16Array", "codes", codes);
    expectInteger(codebooks, "codebooks", 1, this.info.codebooks);
    const frames = checkCodeMatrix(codes, codebooks, this.info.bins);
    return this.#run(options, (native, threads, chunk, cancel) =>
      native.decode(codes, codebooks, frames, threads, chunk, cancel),
    );
  }

  /** Free the weights. Idempotent; waits for every call in flight. */
  async dispose(): Promise<void> {
    const native = this.#native;
    if (!native) return;
    this.#native = undefined;
    await this.#inFlight.settled();
    native.dispose();
    countLive("codecs", -1);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #run<T>(
    options: EncodecRunOptions,
    call: (native: NativeCodec, threads: number, chunk: number, cancel: Int32Array) => Promise<T>,
  ): Promise<T> {
    const native = this.#native;
    if (!native) throw new DisposedError("EncodecModel");
    const threads = expectThreads(options.threads);
    const chunk = options.chunkFrames === undefined ? 0 : expectInteger(options.chunkFrames, "chunkFrames", 8, 1 << 20);
    // This call's own cancel flag: the worker polls its element, an abort writes 1 into it (off-heap memory, so the
    // worker thread reads the same bytes).
    const cancel = new Int32Array(new ArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    return this.#inFlight.track(
      cancellableCall(
        options.signal,
        "EnCodec",
        () => Atomics.store(cancel, 0, 1),
        () => call(native, threads, chunk, cancel),
      ),
    );
  }
}
