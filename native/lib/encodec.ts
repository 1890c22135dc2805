/**
 * EnCodec 24 kHz through the native core (spec encodec-vocos): encode audio to RVQ codes and decode codes to audio,
 * on a worker thread, in chunks of bounded memory whose results equal the whole signal's. @vall-e/codec builds the
 * user-facing Codec (bandwidths, WAV, artifacts) on this class.
 */
import { existsSync } from "node:fs";
import { binding, type NativeCodec, type NativeCodecInfo } from "./binding.js";
import { cancellableCall } from "./cancellable.js";
import { DisposedError, VallEError } from "./errors.js";
import { countLive } from "./live.js";
import { expectFloat32Array, expectInteger, expectThreads, invalid } from "./validate.js";

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
  #native: NativeCodec | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(native: NativeCodec, path: string) {
    this.#native = native;
    this.path = path;
    this.info = native.info;
    countLive("codecs", 1);
  }

  /** Load encodec.cpp-format weights (f32 or f16); every header field and tensor is validated. */
  static async load(path: string): Promise<EncodecModel> {
    if (typeof path !== "string" || path === "") throw invalid("a file path", "path", path);
    if (!existsSync(path)) throw new VallEError("ERR_FILE_NOT_FOUND", `EnCodec weights not found: ${path}`);
    try {
      return new EncodecModel(await binding().createCodec(path), path);
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
    return this.#run(options, (native, threads, chunk) => native.encode(samples, codebooks, threads, chunk));
  }

  /** The encoder's latents [frames × hiddenDim] (frame-major), before quantization. */
  async encodeLatent(samples: Float32Array, options: EncodecRunOptions = {}): Promise<Float32Array> {
    expectFloat32Array(samples, "samples");
    if (samples.length === 0) throw invalid("at least one sample", "samples", samples);
    return this.#run(options, (native, threads, chunk) => native.encodeLatent(samples, threads, chunk));
  }

  /** Audio (frames × 320 samples at 24 kHz) for codes [codebooks × frames]. */
  async decode(codes: Int16Array, codebooks: number, options: EncodecRunOptions = {}): Promise<Float32Array> {
    if (!(codes instanceof Int16Array)) throw invalid("an Int16Array", "codes", codes);
    expectInteger(codebooks, "codebooks", 1, this.info.codebooks);
    if (codes.length === 0 || codes.length % codebooks !== 0) {
      throw invalid(`a non-empty multiple of ${codebooks} codes (codebooks × frames)`, "codes", codes);
    }
    const frames = codes.length / codebooks;
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i] as number;
      if (code < 0 || code >= this.info.bins) {
        throw invalid(`codes from 0 to ${this.info.bins - 1}`, `codes[${Math.floor(i / frames)}][${i % frames}]`, code);
      }
    }
    return this.#run(options, (native, threads, chunk) => native.decode(codes, codebooks, frames, threads, chunk));
  }

  /** Free the weights. Idempotent; waits for the call in flight. */
  async dispose(): Promise<void> {
    const native = this.#native;
    if (!native) return;
    this.#native = undefined;
    await this.#queue;
    native.dispose();
    countLive("codecs", -1);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #run<T>(
    options: EncodecRunOptions,
    call: (native: NativeCodec, threads: number, chunk: number) => Promise<T>,
  ): Promise<T> {
    const native = this.#native;
    if (!native) throw new DisposedError("EncodecModel");
    const threads = expectThreads(options.threads);
    const chunk = options.chunkFrames === undefined ? 0 : expectInteger(options.chunkFrames, "chunkFrames", 8, 1 << 20);
    const { signal } = options;
    const result = this.#queue.then(() =>
      cancellableCall(
        signal,
        "EnCodec",
        () => native.cancel(),
        () => call(native, threads, chunk),
      ),
    );
    this.#queue = result.catch(() => undefined);
    return result;
  }
}
