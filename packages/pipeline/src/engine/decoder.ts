/**
 * The decoder seam: the pipeline turns response codes into audio through this interface only. Two implementations:
 * Vocos (the reference's default: charactr/vocos-encodec-24khz, better audio from the same codes) and EnCodec's own
 * decoder.
 */
import type { Codec, CodesArtifact, Vocos } from "@vall-e/codec";
import { SAMPLE_RATE } from "@vall-e/core";

/** The decoders, the default first. */
export const DECODERS = ["vocos", "encodec"] as const;
export type DecoderName = (typeof DECODERS)[number];
export const DEFAULT_DECODER: DecoderName = "vocos";

/** The model role (run.json's key) each decoder's weights have. */
export const DECODER_ROLES = { vocos: "vocos", encodec: "codec" } as const satisfies Record<DecoderName, string>;

export interface DecodeOptions {
  signal?: AbortSignal;
}

export interface Decoder {
  readonly name: DecoderName;
  /** Samples per second of what decode returns. */
  readonly sampleRate: number;
  /** The weights it decodes with: the model role (run.json's key) and the file. */
  readonly weights: { role: (typeof DECODER_ROLES)[DecoderName]; path: string };
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

/**
 * Vocos (the engine owns and frees it), conditioned on bandwidth 2 (6 kbps, the VALL-E models' 8 codebooks) for codes
 * of any level count, as the reference decodes (vall_e/emb/qnt.py decode passes bandwidth_id 2): a request with
 * fewer levels (maxLevels) sums only those codebooks.
 */
export class VocosDecoder implements Decoder {
  readonly name = "vocos" as const;
  readonly sampleRate = SAMPLE_RATE;
  readonly weights: { role: "vocos"; path: string };
  readonly #vocos: Vocos;

  constructor(vocos: Vocos) {
    this.#vocos = vocos;
    this.weights = { role: "vocos", path: vocos.path };
  }

  decode(codes: CodesArtifact, options: DecodeOptions = {}): Promise<Float32Array> {
    return this.#vocos.decode(codes, {
      bandwidthId: Math.min(REFERENCE_BANDWIDTH_ID, this.#vocos.info.bandwidths - 1),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
}

/** The bandwidth the reference decodes with: 6 kbps. */
const REFERENCE_BANDWIDTH_ID = 2;
