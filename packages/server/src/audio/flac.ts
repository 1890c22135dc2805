/**
 * FLAC: lossless 16-bit mono through libFLAC (libflacjs, its emscripten build; the asm.js variant, since its
 * WebAssembly variants fetch() their .wasm by file path, which Node 20's fetch refuses). Frames come out as libFLAC
 * finishes each block (4096 samples at compression level 5), so a stream holds at most a block back.
 *
 * libFLAC writes STREAMINFO first, before it knows the length, and only rewrites it through a seek callback, which
 * the JavaScript build does not have. A streamed file keeps total samples and MD5 at 0 ("unknown", RFC 9639 §8.2); a
 * whole file is buffered (compressed) and its STREAMINFO completed from the final metadata libFLAC reports.
 */
import { toPcm16, VallEError } from "@vall-e/pipeline";
import createFlac from "libflacjs";
import { concatBytes, EncoderBase, NO_BYTES } from "./encoder.js";

const Flac = createFlac();
// The asm.js build initialises asynchronously (a few milliseconds); encoders are created synchronously.
await new Promise<void>((resolve) => {
  if (Flac.isReady()) resolve();
  else Flac.on("ready", () => resolve());
});

const BITS_PER_SAMPLE = 16;
const COMPRESSION_LEVEL = 5;
/** Samples handed to libFLAC per call: bounds the copy it makes into its heap. */
const CHUNK = 16_384;

/** FLAC's sample-rate field has 20 bits; libFLAC 1.3 accepts up to 655350 Hz. */
export const FLAC_MAX_SAMPLE_RATE = 655_350;

export class FlacEncoder extends EncoderBase {
  readonly contentType: string;
  readonly #streaming: boolean;
  readonly #encoder: number;
  /** What libFLAC wrote since the last push() (streamed), or everything (whole). */
  #pending: Uint8Array[] = [];
  #metadata: createFlac.StreamMetadata | undefined;
  #finished = false;

  constructor(contentType: string, sampleRate: number, streaming: boolean) {
    super();
    this.contentType = contentType;
    this.#streaming = streaming;
    const encoder = Flac.create_libflac_encoder(sampleRate, 1, BITS_PER_SAMPLE, COMPRESSION_LEVEL, 0, false, 0);
    if (encoder === 0) throw new VallEError("ERR_INTERNAL", "libFLAC could not create an encoder");
    this.#encoder = encoder;
    const status = Flac.init_encoder_stream(
      encoder,
      (data) => {
        this.#pending.push(data);
      },
      (metadata) => {
        this.#metadata = metadata;
      },
    );
    if (status !== 0) {
      Flac.FLAC__stream_encoder_delete(encoder);
      throw new VallEError("ERR_INTERNAL", `libFLAC could not start an encoder (init status ${status})`);
    }
  }

  protected encode(samples: Float32Array): Uint8Array {
    const pcm = toPcm16(samples);
    const block = new Int32Array(Math.min(CHUNK, pcm.length));
    for (let start = 0; start < pcm.length; start += CHUNK) {
      const count = Math.min(CHUNK, pcm.length - start);
      for (let i = 0; i < count; i++) block[i] = pcm[start + i] as number;
      if (!Flac.FLAC__stream_encoder_process_interleaved(this.#encoder, block, count)) this.#fail("encode");
    }
    return this.#streaming ? this.#take() : NO_BYTES;
  }

  protected finish(): Uint8Array {
    this.#finished = true;
    if (!Flac.FLAC__stream_encoder_finish(this.#encoder)) this.#fail("finish");
    if (this.#streaming) return this.#take();
    const file = concatBytes(this.#pending);
    this.#pending = [];
    if (this.#metadata === undefined) throw new VallEError("ERR_INTERNAL", "libFLAC reported no stream metadata");
    completeStreamInfo(file, this.#metadata);
    return file;
  }

  protected override release(): void {
    // Deleting an unfinished encoder finishes it, after libflacjs has dropped the callbacks it would then call.
    if (!this.#finished) Flac.FLAC__stream_encoder_finish(this.#encoder);
    Flac.FLAC__stream_encoder_delete(this.#encoder);
    this.#pending = [];
  }

  #take(): Uint8Array {
    const bytes = concatBytes(this.#pending);
    this.#pending = [];
    return bytes;
  }

  #fail(step: string): never {
    const state = Flac.FLAC__stream_encoder_get_state(this.#encoder);
    throw new VallEError("ERR_INTERNAL", `libFLAC failed to ${step} (encoder state ${state})`);
  }
}

/**
 * Write the final frame sizes, sample count and MD5 into a FLAC file's STREAMINFO (RFC 9639 §8.2): after "fLaC" and
 * the 4-byte block header, min/max block size (2 + 2 bytes), min/max frame size (3 + 3), then 64 bits of sample
 * rate (20), channels − 1 (3), bits − 1 (5) and total samples (36), then the 16-byte MD5 of the samples.
 */
function completeStreamInfo(file: Uint8Array, metadata: createFlac.StreamMetadata): void {
  const magic = String.fromCharCode(...file.subarray(0, 4));
  if (magic !== "fLaC" || ((file[4] ?? 0xff) & 0x7f) !== 0 || file.length < 42) {
    throw new VallEError("ERR_INTERNAL", "libFLAC's output does not start with a STREAMINFO block");
  }
  const info = 8;
  const uint24 = (offset: number, value: number) => {
    file[offset] = (value >>> 16) & 0xff;
    file[offset + 1] = (value >>> 8) & 0xff;
    file[offset + 2] = value & 0xff;
  };
  uint24(info + 4, metadata.min_framesize);
  uint24(info + 7, metadata.max_framesize);
  const total = metadata.total_samples;
  file[info + 13] = ((file[info + 13] as number) & 0xf0) | (Math.floor(total / 2 ** 32) & 0x0f);
  new DataView(file.buffer, file.byteOffset + info + 14, 4).setUint32(0, total >>> 0);
  const md5 = metadata.md5sum;
  if (/^[0-9a-f]{32}$/i.test(md5)) {
    for (let i = 0; i < 16; i++) file[info + 18 + i] = Number.parseInt(md5.slice(2 * i, 2 * i + 2), 16);
  }
}
