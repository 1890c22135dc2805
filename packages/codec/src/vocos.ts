/**
 * Vocos (`charactr/vocos-encodec-24khz`), the decoder the reference uses by default: EnCodec codes to 24 kHz audio,
 * the same codes as EnCodec's own decoder with clearly better audio. Weights are read straight from the hub's
 * `pytorch_model.bin` (or a `.safetensors` copy of it); decoding runs on the native ggml core in chunks of bounded
 * memory whose result equals the whole signal's.
 */
import { expectThreads } from "@vall-e/core";
import {
  type DeviceInfo,
  resolveDevice,
  type VocosInfo,
  VocosModel,
  type VocosOutput,
  vocosCodebookCounts,
} from "@vall-e/native";
import type { CodecCallOptions, CodesLike } from "./codec.js";
import { type ReadVocosOptions, readVocosWeights, type VocosConfig } from "./weights/vocos-weights.js";

export interface VocosOptions extends ReadVocosOptions {
  /** Threads for every call (default: physical cores). */
  threads?: number;
  /** Where the weights and graphs live (default "cpu"): "auto", "cpu", "vulkan[:N]", "cuda[:N]". */
  device?: string;
}

export interface VocosCallOptions extends Omit<CodecCallOptions, "chunkFrames"> {
  /** Frames per chunk, 1 or more (default 750 = 10 s): changes memory and speed, never the result. */
  chunkFrames?: number;
  /**
   * The bandwidth to condition on, 0 … 3 (1.5, 3, 6, 12 kbps), for codes of any count; the reference decodes every
   * VALL-E output with 2. Default: from the codebook count (2/4/8/16 ↔ 0…3; another count is refused).
   */
  bandwidthId?: number;
}

export class Vocos implements AsyncDisposable {
  /** The weights file. */
  readonly path: string;
  readonly config: VocosConfig;
  readonly #model: VocosModel;
  readonly #threads: number;

  private constructor(model: VocosModel, path: string, config: VocosConfig, threads: number) {
    this.#model = model;
    this.path = path;
    this.config = config;
    this.#threads = threads;
  }

  /** Load `pytorch_model.bin` (or `.safetensors`); every key, shape, dtype and value is checked. */
  static async load(path: string, options: VocosOptions = {}): Promise<Vocos> {
    const threads = expectThreads(options.threads);
    if (options.device !== undefined) resolveDevice(options.device); // refused before anything is read
    const weights = await readVocosWeights(path, options.config === undefined ? {} : { config: options.config });
    const model = await VocosModel.create(
      weights.tensors,
      `Vocos weights ${path}`,
      options.device === undefined ? {} : { device: options.device },
    );
    return new Vocos(model, path, weights.config, threads);
  }

  /** The device its weights and graphs are on. */
  get device(): DeviceInfo {
    return this.#model.device;
  }

  get info(): VocosInfo & { path: string } {
    return { ...this.#model.info, path: this.path };
  }

  /** The codebook counts it decodes: 2, 4, 8, 16 (1.5, 3, 6, 12 kbps). */
  get codebookCounts(): number[] {
    return vocosCodebookCounts(this.#model.info);
  }

  /** 24 kHz audio (frames × 320 samples) for codes [codebooks × frames]. */
  async decode(codes: CodesLike, options: VocosCallOptions = {}): Promise<Float32Array> {
    return this.compute(codes, "audio", options);
  }

  /** decode, or its features [frames × inputChannels] / backbone output [frames × dim] (for checks). */
  async compute(codes: CodesLike, output: VocosOutput, options: VocosCallOptions = {}): Promise<Float32Array> {
    return this.#model.compute(codes.codes, codes.codebooks, output, {
      threads: this.#threads,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.chunkFrames !== undefined ? { chunkFrames: options.chunkFrames } : {}),
      ...(options.bandwidthId !== undefined ? { bandwidthId: options.bandwidthId } : {}),
    });
  }

  async dispose(): Promise<void> {
    await this.#model.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#model.dispose();
  }
}
