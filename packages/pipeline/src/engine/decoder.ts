/**
 * The decoder seam: the pipeline turns response codes into audio through this interface only, so a second decoder
 * (Vocos) is one more implementation, not a change to the pipeline. EnCodec's own decoder is the first.
 */
import type { Codec, CodesArtifact } from "@vall-e/codec";
import { SAMPLE_RATE } from "@vall-e/core";

export const DECODERS = ["encodec"] as const;
export type DecoderName = (typeof DECODERS)[number];

export interface DecodeOptions {
  signal?: AbortSignal;
}

export interface Decoder {
  readonly name: DecoderName;
  /** Samples per second of what decode returns. */
  readonly sampleRate: number;
  /** The weights it decodes with: the model role (run.json's key) and the file. */
  readonly weights: { role: "codec"; path: string };
  /** Audio for codes [codebooks × frames]; several calls may run at once. */
  decode(codes: CodesArtifact, options?: DecodeOptions): Promise<Float32Array>;
}

/** EnCodec's decoder, over the engine's codec (weights shared with the encoder; the engine owns and frees them). */
export class EncodecDecoder implements Decoder {
  readonly name = "encodec" as const;
  readonly sampleRate = SAMPLE_RATE;
  readonly weights: { role: "codec"; path: string };
  readonly #codec: Codec;

  constructor(codec: Codec, path: string) {
    this.#codec = codec;
    this.weights = { role: "codec", path };
  }

  decode(codes: CodesArtifact, options: DecodeOptions = {}): Promise<Float32Array> {
    return this.#codec.decode(codes, options.signal ? { signal: options.signal } : {});
  }
}
