/**
 * libopus's encoder from opusscript's emscripten build (libopus 1.4), called through its module directly.
 *
 * Why not opusscript's `OpusScript` class: it indexes its 16-bit heap view with byte addresses, so each instance
 * writes its PCM at twice the address it allocated, in memory that other encoders' allocations own once a few exist,
 * and past the heap's end (a RangeError) once some tens exist; and it keeps views of the heap that go dead when the
 * heap grows (about 160 encoders). Here each encoder owns its buffers and the heap views are read afresh on every
 * call, so any number of encoders may be alive at once.
 *
 * The module's `_encode(input, samples, output, frameSize)` takes its 16-bit input as one byte per 16-bit slot
 * (low byte, high byte: it packs them in place before calling opus_encode) and writes at most 3828 bytes.
 */
import { createRequire } from "node:module";
import { VallEError } from "@vall-e/pipeline";

interface OpusHandler {
  _encode(input: number, samples: number, output: number, frameSize: number): number;
  _encoder_ctl(request: number, argument: number): number;
}

interface OpusModule {
  HEAPU8: Uint8Array;
  HEAPU16: Uint16Array;
  HEAP32: Int32Array;
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  OpusScriptHandler: {
    new (sampleRate: number, channels: number, application: number): OpusHandler;
    destroy_handler(handler: OpusHandler): void;
  };
}

const require = createRequire(import.meta.url);
const opus = (require("opusscript/build/opusscript_native_wasm.js") as () => OpusModule)();

/** The rates libopus encodes at. */
export const OPUS_SAMPLE_RATES = [8000, 12000, 16000, 24000, 48000] as const;

// opus_defines.h
const OPUS_APPLICATION_AUDIO = 2049;
const OPUS_SET_BITRATE_REQUEST = 4002;
const OPUS_GET_LOOKAHEAD_REQUEST = 4027;
const MAX_PACKET_SIZE = 1276 * 3;
const OPUS_ERRORS: Record<number, string> = {
  [-1]: "bad argument",
  [-2]: "buffer too small",
  [-3]: "internal error",
  [-4]: "invalid packet",
  [-5]: "unimplemented",
  [-6]: "invalid state",
  [-7]: "memory allocation failed",
};

function opusError(what: string, status: number): VallEError {
  return new VallEError("ERR_INTERNAL", `libopus failed to ${what}: ${OPUS_ERRORS[status] ?? `error ${status}`}`);
}

/** A mono libopus encoder for frames of a fixed size. */
export class OpusFrameEncoder {
  readonly frameSize: number;
  /** The encoder's delay in samples at its own rate (OPUS_GET_LOOKAHEAD): what a decoder skips. */
  readonly lookahead: number;
  #handler: OpusHandler | undefined;
  readonly #input: number;
  readonly #output: number;

  constructor(sampleRate: number, frameSize: number, bitrate: number) {
    this.frameSize = frameSize;
    const handler = new opus.OpusScriptHandler(sampleRate, 1, OPUS_APPLICATION_AUDIO);
    this.#handler = handler;
    this.#input = opus._malloc(frameSize * 4);
    this.#output = opus._malloc(MAX_PACKET_SIZE);
    try {
      const status = handler._encoder_ctl(OPUS_SET_BITRATE_REQUEST, bitrate);
      if (status < 0) throw opusError("set the bit rate", status);
      const lookahead = handler._encoder_ctl(OPUS_GET_LOOKAHEAD_REQUEST, this.#output);
      if (lookahead < 0) throw opusError("report its look-ahead", lookahead);
      this.lookahead = opus.HEAP32[this.#output >> 2] as number;
    } catch (error) {
      this.free();
      throw error;
    }
  }

  /** One packet for `frameSize` 16-bit samples. */
  encode(frame: Int16Array): Uint8Array {
    const handler = this.#handler;
    if (handler === undefined) throw new VallEError("ERR_INTERNAL", "This Opus encoder has been freed");
    if (frame.length !== this.frameSize) {
      throw new VallEError("ERR_INTERNAL", `Opus frames have ${this.frameSize} samples, got ${frame.length}`);
    }
    const slots = opus.HEAPU16;
    const base = this.#input >> 1;
    for (let i = 0; i < frame.length; i++) {
      const sample = frame[i] as number;
      slots[base + 2 * i] = sample & 0xff;
      slots[base + 2 * i + 1] = (sample >> 8) & 0xff;
    }
    const length = handler._encode(this.#input, frame.length, this.#output, this.frameSize);
    if (length < 0) throw opusError("encode a frame", length);
    return opus.HEAPU8.slice(this.#output, this.#output + length);
  }

  /** Idempotent. */
  free(): void {
    const handler = this.#handler;
    if (handler === undefined) return;
    this.#handler = undefined;
    opus.OpusScriptHandler.destroy_handler(handler);
    opus._free(this.#input);
    opus._free(this.#output);
  }
}
