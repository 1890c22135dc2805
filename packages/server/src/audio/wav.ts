/**
 * WAV and raw PCM: 16-bit little-endian mono (clamped, rounded, as @vall-e/codec writes every WAV). A streamed WAV
 * starts with @vall-e/codec's header of unknown length (RIFF and data sizes 0xFFFFFFFF), which players read until
 * the connection closes; a whole one is buffered and written with its exact sizes, since the sizes come first.
 */
import { encodeWav, pcm16Bytes, streamingWavHeader } from "@vall-e/pipeline";
import { concatBytes, EncoderBase, NO_BYTES } from "./encoder.js";

export class PcmEncoder extends EncoderBase {
  readonly contentType: string;

  constructor(contentType: string) {
    super();
    this.contentType = contentType;
  }

  protected encode(samples: Float32Array): Uint8Array {
    return pcm16Bytes(samples);
  }

  protected finish(): Uint8Array {
    return NO_BYTES;
  }
}

export class WavEncoder extends EncoderBase {
  readonly contentType: string;
  readonly #sampleRate: number;
  readonly #streaming: boolean;
  #headerSent = false;
  /** Whole (non-streamed) files only: the samples until end() knows the size. */
  #pieces: Float32Array[] = [];

  constructor(contentType: string, sampleRate: number, streaming: boolean) {
    super();
    this.contentType = contentType;
    this.#sampleRate = sampleRate;
    this.#streaming = streaming;
  }

  protected encode(samples: Float32Array): Uint8Array {
    if (!this.#streaming) {
      // A copy: the caller may reuse its array once push() returns.
      if (samples.length > 0) this.#pieces.push(samples.slice());
      return NO_BYTES;
    }
    return concatBytes([this.#header(), pcm16Bytes(samples)]);
  }

  protected finish(): Uint8Array {
    if (this.#streaming) return this.#header();
    const all = new Float32Array(this.#pieces.reduce((sum, piece) => sum + piece.length, 0));
    let offset = 0;
    for (const piece of this.#pieces) {
      all.set(piece, offset);
      offset += piece.length;
    }
    return encodeWav(all, this.#sampleRate);
  }

  protected override release(): void {
    this.#pieces = [];
  }

  #header(): Uint8Array {
    if (this.#headerSent) return NO_BYTES;
    this.#headerSent = true;
    return streamingWavHeader(this.#sampleRate);
  }
}
