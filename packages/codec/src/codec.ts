/**
 * The user-facing EnCodec 24 kHz codec: load weights once, then encode audio to codes at a bandwidth and decode
 * codes back to audio, on a worker thread, in bounded memory. Weights: encodec.cpp's ggml binary (the `encodec.bin`
 * published next to the VALL-E GGUFs, f32 or f16); Hugging Face checkpoints go through `convertHuggingFaceEncodec`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { expectThreads, statPathSync } from "@vall-e/core";
import { type DeviceInfo, type EncodecInfo, EncodecModel, type EncodecRunOptions, resolveDevice } from "@vall-e/native";
import { type CodesArtifact, createCodesArtifact } from "./artifact/codes-artifact.js";
import { readAudio } from "./audio/decode.js";
import { type PrepareOptions, toCodecInput } from "./audio/prepare.js";
import type { Audio } from "./audio/wav.js";
import { codebooksForBandwidth } from "./encodec.js";
import { encodeEncodecBin } from "./weights/encodec-bin.js";
import { convertHuggingFaceEncodec } from "./weights/huggingface.js";

export interface CodecOptions {
  /** Threads for every call (default: physical cores). */
  threads?: number;
  /** Where the weights and graphs live (default "cpu"): "auto", "cpu", "vulkan[:N]", "cuda[:N]". */
  device?: string;
}

export interface CodecCallOptions {
  signal?: AbortSignal;
  /** Frames per chunk, 8 or more (default 375 = 5 s): changes memory and speed, never the result. */
  chunkFrames?: number;
}

export interface EncodeOptions extends CodecCallOptions {
  /** kbps: 1.5, 3, 6 (default, the VALL-E models' 8 codebooks), 12 or 24. */
  bandwidth?: number;
}

export interface CodesLike {
  /** [codebooks × frames], codebook-major. */
  codes: Int16Array;
  codebooks: number;
}

export class Codec implements AsyncDisposable {
  readonly #model: EncodecModel;
  readonly #threads: number;

  private constructor(model: EncodecModel, threads: number) {
    this.#model = model;
    this.#threads = threads;
  }

  /**
   * Load weights: an encodec.cpp-format file (validated completely), or a Hugging Face checkpoint (its directory or
   * its .safetensors), converted on the way in.
   */
  static async load(path: string, options: CodecOptions = {}): Promise<Codec> {
    const threads = expectThreads(options.threads);
    if (options.device !== undefined) resolveDevice(options.device); // refused before anything is read
    const huggingFace = path.endsWith(".safetensors") || statPathSync(path)?.isDirectory() === true;
    const load = (file: string) =>
      EncodecModel.load(file, options.device === undefined ? {} : { device: options.device });
    if (!huggingFace) return new Codec(await load(path), threads);
    const converted = join(mkdtempSync(join(tmpdir(), "vall-e-encodec-")), "encodec.bin");
    try {
      writeFileSync(converted, encodeEncodecBin(await convertHuggingFaceEncodec(path)));
      return new Codec(await load(converted), threads);
    } finally {
      rmSync(dirname(converted), { recursive: true, force: true });
    }
  }

  /** The device its weights and graphs are on. */
  get device(): DeviceInfo {
    return this.#model.device;
  }

  get info(): EncodecInfo & { path: string } {
    return { ...this.#model.info, path: this.#model.path };
  }

  /** Codes [codebooks × ceil(n / 320)] for 24 kHz mono samples. */
  async encode(pcm: Float32Array, options: EncodeOptions = {}): Promise<Int16Array> {
    const codebooks = codebooksForBandwidth(options.bandwidth ?? 6);
    return this.#model.encode(pcm, codebooks, this.#run(options));
  }

  /** Encode decoded audio of any rate and channel count (resampled to 24 kHz mono) into a CodesArtifact. */
  async encodeAudio(
    audio: Audio,
    options: EncodeOptions & PrepareOptions & { path?: string } = {},
  ): Promise<CodesArtifact> {
    const pcm = await toCodecInput(audio, options);
    const codebooks = codebooksForBandwidth(options.bandwidth ?? 6);
    const codes = await this.encode(pcm, options);
    const source = {
      ...(options.path ? { path: basename(options.path) } : {}),
      sampleRate: audio.sampleRate,
      samples: audio.channels[0]?.length ?? 0,
      channels: audio.channels.length,
    };
    return createCodesArtifact(codes, codebooks, { source });
  }

  /** Read an audio file (WAV, FLAC, MP3, Ogg Opus or Ogg Vorbis) and encode it. */
  async encodeFile(path: string, options: EncodeOptions & PrepareOptions = {}): Promise<CodesArtifact> {
    return this.encodeAudio(await readAudio(path), { ...options, path });
  }

  /** 24 kHz audio (frames × 320 samples) for codes. */
  async decode(codes: CodesLike, options: CodecCallOptions = {}): Promise<Float32Array> {
    return this.#model.decode(codes.codes, codes.codebooks, this.#run(options));
  }

  /** The encoder's latents [frames × 128] before quantization (diagnostics). */
  async encodeLatent(pcm: Float32Array, options: CodecCallOptions = {}): Promise<Float32Array> {
    return this.#model.encodeLatent(pcm, this.#run(options));
  }

  async dispose(): Promise<void> {
    await this.#model.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #run(options: CodecCallOptions): EncodecRunOptions {
    return {
      threads: this.#threads,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.chunkFrames !== undefined ? { chunkFrames: options.chunkFrames } : {}),
    };
  }
}
