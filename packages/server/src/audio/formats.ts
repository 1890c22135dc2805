/**
 * The speech endpoint's `response_format`s (OpenAI's, less aac), their Content-Types, and the encoders that turn
 * mono float samples into them, whole or streamed as sentences finish.
 */
import { expectInteger, expectOneOf, invalid } from "@vall-e/pipeline";
import { type AudioEncoder, concatBytes } from "./encoder.js";
import { FLAC_MAX_SAMPLE_RATE, FlacEncoder } from "./flac.js";
import { OPUS_SAMPLE_RATES } from "./libopus.js";
import { MP3_SAMPLE_RATES, Mp3Encoder } from "./mp3.js";
import { OggOpusEncoder } from "./opus.js";
import { PcmEncoder, WavEncoder } from "./wav.js";

export type { AudioEncoder } from "./encoder.js";

export const RESPONSE_FORMATS = ["wav", "pcm", "flac", "mp3", "opus"] as const;
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number];

/**
 * pcm is raw 16-bit little-endian mono samples at the model's 24 kHz, as OpenAI's pcm (no registered type fits:
 * audio/L16 is big-endian). opus is Opus in Ogg (RFC 7845's audio/ogg, with the codec named for browsers).
 */
export const CONTENT_TYPES: Readonly<Record<ResponseFormat, string>> = {
  wav: "audio/wav",
  pcm: "audio/pcm",
  flac: "audio/flac",
  mp3: "audio/mpeg",
  opus: "audio/ogg; codecs=opus",
};

export interface EncoderOptions {
  /**
   * The bytes go out while the audio is still being made (default false). Only WAV and FLAC change: their
   * headers then leave the length (and FLAC's MD5) unknown instead of holding everything back until end().
   */
  streaming?: boolean;
}

/** The highest rate accepted for any format (as parseWav reads). */
const MAX_SAMPLE_RATE = 768_000;

/** The response_format as a ResponseFormat, or the InvalidArgumentError that lists them. */
export function expectResponseFormat(value: unknown): ResponseFormat {
  return expectOneOf(value, "response_format", RESPONSE_FORMATS);
}

/**
 * An encoder for one response at `sampleRate`. An unknown format, or a rate the format cannot hold (MP3's MPEG rates,
 * Opus's 8/12/16/24/48 kHz), is an InvalidArgumentError.
 */
export function createEncoder(format: ResponseFormat, sampleRate: number, options: EncoderOptions = {}): AudioEncoder {
  const checked = expectResponseFormat(format);
  expectInteger(sampleRate, "sampleRate", 1, MAX_SAMPLE_RATE);
  const streaming = options.streaming ?? false;
  const contentType = CONTENT_TYPES[checked];
  switch (checked) {
    case "wav":
      return new WavEncoder(contentType, sampleRate, streaming);
    case "pcm":
      return new PcmEncoder(contentType);
    case "flac":
      if (sampleRate > FLAC_MAX_SAMPLE_RATE)
        throw invalid(`at most ${FLAC_MAX_SAMPLE_RATE} Hz`, "sampleRate", sampleRate);
      return new FlacEncoder(contentType, sampleRate, streaming);
    case "mp3":
      expectRate(sampleRate, MP3_SAMPLE_RATES, "MP3");
      return new Mp3Encoder(contentType, sampleRate);
    case "opus":
      expectRate(sampleRate, OPUS_SAMPLE_RATES, "Opus");
      return new OggOpusEncoder(contentType, sampleRate);
  }
}

/** A whole response: the file for `samples` in one piece. */
export function encodeAudio(format: ResponseFormat, samples: Float32Array, sampleRate: number): Uint8Array {
  const encoder = createEncoder(format, sampleRate);
  try {
    return concatBytes([encoder.push(samples), encoder.end()]);
  } finally {
    encoder.dispose();
  }
}

function expectRate(sampleRate: number, rates: readonly number[], codec: string): void {
  if (!rates.includes(sampleRate)) {
    throw invalid(`a sample rate ${codec} encodes (${rates.join(", ")} Hz)`, "sampleRate", sampleRate);
  }
}
