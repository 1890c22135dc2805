/**
 * MP3: LAME through lamejs (pure JavaScript; the maintained @breezystack fork, an ES module), constant bit rate,
 * mono. No Xing/LAME tag is written, so the frames stream as they are made and the concatenation is the file.
 * LAME holds back about a frame plus its look-ahead until flush(), which end() calls.
 */
import { Mp3Encoder as LameEncoder } from "@breezystack/lamejs";
import { toPcm16 } from "@vall-e/pipeline";
import { concatBytes, EncoderBase } from "./encoder.js";

/** MPEG-1, -2 and -2.5 Layer III sample rates. */
export const MP3_SAMPLE_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000] as const;
/** kbps: transparent enough for 24 kHz speech (MPEG-2 Layer III at 24 kHz allows 8 to 160). */
export const MP3_BITRATE = 64;
/** Samples per call into LAME: bounds the output buffer it sizes to its input. */
const CHUNK = 1152 * 8;

export class Mp3Encoder extends EncoderBase {
  readonly contentType: string;
  readonly #lame: LameEncoder;

  constructor(contentType: string, sampleRate: number) {
    super();
    this.contentType = contentType;
    this.#lame = new LameEncoder(1, sampleRate, MP3_BITRATE);
  }

  protected encode(samples: Float32Array): Uint8Array {
    const pcm = toPcm16(samples);
    const parts: Uint8Array[] = [];
    for (let start = 0; start < pcm.length; start += CHUNK) {
      parts.push(bytesOf(this.#lame.encodeBuffer(pcm.subarray(start, start + CHUNK))));
    }
    return concatBytes(parts);
  }

  protected finish(): Uint8Array {
    return bytesOf(this.#lame.flush());
  }
}

/** lamejs returns its bytes as an Int8Array (its types say Uint8Array). */
function bytesOf(data: Uint8Array | Int8Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
