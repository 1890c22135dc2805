/**
 * Ogg Opus (RFC 7845): libopus in 20 ms frames at the input's rate, muxed by ./ogg.ts. Pre-skip is the encoder's
 * look-ahead; end() pads the last frame with silence and encodes until the look-ahead is covered, then the last
 * page's granule position (pre-skip + the real samples at 48 kHz) tells the decoder where the audio ends. Memory is
 * bounded: less than a frame of samples and one packet wait for the next push().
 */
import { toPcm16 } from "@vall-e/pipeline";
import { concatBytes, EncoderBase } from "./encoder.js";
import { OpusFrameEncoder } from "./libopus.js";
import { OggOpusMuxer } from "./ogg.js";

/** bits/s: clear speech from a 24 kHz source (libopus's automatic rate there is 27 kb/s). */
export const OPUS_BITRATE = 32_000;
export const OPUS_VENDOR = "vall-e for Node (libopus 1.4)";
const FRAME_SECONDS = 0.02;
/** Granule positions and pre-skip count samples at 48 kHz whatever the input rate. */
const GRANULE_RATE = 48_000;

export class OggOpusEncoder extends EncoderBase {
  readonly contentType: string;
  readonly #opus: OpusFrameEncoder;
  readonly #muxer: OggOpusMuxer;
  /** 48 kHz samples per input sample (2 at 24 kHz). */
  readonly #scale: number;
  readonly #frame: Int16Array;
  #filled = 0;
  #framesEncoded = 0;
  #samples = 0;
  /** Packets not yet on a page. */
  #waiting: Uint8Array[] = [];

  constructor(contentType: string, sampleRate: number) {
    super();
    this.contentType = contentType;
    const frameSize = Math.round(sampleRate * FRAME_SECONDS);
    this.#opus = new OpusFrameEncoder(sampleRate, frameSize, OPUS_BITRATE);
    this.#scale = GRANULE_RATE / sampleRate;
    this.#frame = new Int16Array(frameSize);
    this.#muxer = new OggOpusMuxer({
      preSkip: this.#opus.lookahead * this.#scale,
      inputSampleRate: sampleRate,
      vendor: OPUS_VENDOR,
    });
  }

  protected encode(samples: Float32Array): Uint8Array {
    this.#add(toPcm16(samples));
    this.#samples += samples.length;
    // The newest packet waits, so that the last page always holds real audio and its granule position (which
    // trims the padding) is past the page before it.
    const ready = this.#waiting.splice(0, Math.max(0, this.#waiting.length - 1));
    return concatBytes(this.#muxer.audio(ready, this.#frameDuration()));
  }

  protected finish(): Uint8Array {
    // libopus outputs each sample `lookahead` samples late: encode silence until the last real one is out.
    const frameSize = this.#frame.length;
    while (this.#framesEncoded * frameSize < this.#samples + this.#opus.lookahead) {
      this.#frame.fill(0, this.#filled);
      this.#filled = frameSize;
      this.#encodeFrame();
    }
    const finalGranule = this.#opus.lookahead * this.#scale + this.#samples * this.#scale;
    return concatBytes(this.#muxer.finish(this.#waiting, this.#frameDuration(), finalGranule));
  }

  protected override release(): void {
    this.#opus.free();
    this.#waiting = [];
  }

  #add(pcm: Int16Array): void {
    const frame = this.#frame;
    let offset = 0;
    while (offset < pcm.length) {
      const count = Math.min(frame.length - this.#filled, pcm.length - offset);
      frame.set(pcm.subarray(offset, offset + count), this.#filled);
      this.#filled += count;
      offset += count;
      if (this.#filled === frame.length) this.#encodeFrame();
    }
  }

  #encodeFrame(): void {
    this.#waiting.push(this.#opus.encode(this.#frame));
    this.#framesEncoded++;
    this.#filled = 0;
  }

  #frameDuration(): number {
    return this.#frame.length * this.#scale;
  }
}
