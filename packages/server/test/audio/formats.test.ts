import { createHash } from "node:crypto";
import {
  DisposedError,
  encodeWav,
  InvalidArgumentError,
  parseWav,
  pcm16Bytes,
  streamingWavHeader,
  toPcm16,
} from "@vall-e/pipeline";
import { FLACDecoder } from "@wasm-audio-decoders/flac";
import { MPEGDecoder } from "mpg123-decoder";
import { OggOpusDecoder } from "ogg-opus-decoder";
import { describe, expect, it, vi } from "vitest";
import {
  CONTENT_TYPES,
  createEncoder,
  encodeAudio,
  RESPONSE_FORMATS,
  type ResponseFormat,
} from "../../src/audio/formats.js";

const RATE = 24_000;
const LENGTH = 36_000; // 1.5 s
/** Where the three pushes split the signal: not on frame or block boundaries of any codec. */
const SPLITS = [10_000, 23_001];

/**
 * 440 Hz + 880 Hz in three notes (0.4 s each, 10 ms raised-cosine ramps, 0.1 s apart): the onsets make the alignment
 * by cross-correlation unique, which a steady tone (period 54.5 samples) would not.
 */
function toneMix(length = LENGTH): Float32Array {
  const out = new Float32Array(length);
  const ramp = 0.01 * RATE;
  for (let i = 0; i < length; i++) {
    const t = i / RATE;
    const inNote = (t % 0.5) - 0.05; // each note: 0.05 s to 0.45 s within its half second
    const position = inNote * RATE;
    const noteLength = 0.4 * RATE;
    let envelope = 0;
    if (position >= 0 && position < noteLength) {
      const edge = Math.min(position, noteLength - position);
      envelope = edge >= ramp ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / ramp);
    }
    out[i] = envelope * (0.4 * Math.sin(2 * Math.PI * 440 * t) + 0.3 * Math.sin(2 * Math.PI * 880 * t));
  }
  return out;
}

const signal = toneMix();
const pcm16 = toPcm16(signal);

/** Encode in three pushes; the pieces as they came out. */
function encodePieces(format: ResponseFormat, streaming: boolean, samples = signal): Uint8Array[] {
  const encoder = createEncoder(format, RATE, { streaming });
  const bounds = [0, ...SPLITS.filter((split) => split < samples.length), samples.length];
  const pieces = bounds.slice(1).map((end, i) => encoder.push(samples.subarray(bounds[i], end)));
  pieces.push(encoder.end());
  return pieces;
}

function concat(pieces: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(pieces));
}

/** Normalized cross-correlation of `reference` with `decoded` shifted left by `lag`, over their overlap. */
function correlation(reference: Float32Array, decoded: Float32Array, lag: number): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = Math.max(0, -lag); i < reference.length && i + lag < decoded.length; i++) {
    const x = reference[i] as number;
    const y = decoded[i + lag] as number;
    xy += x * y;
    xx += x * x;
    yy += y * y;
  }
  return xy / Math.sqrt(xx * yy);
}

/** The lag in [min, max] where the decoded signal best matches the reference. */
function align(reference: Float32Array, decoded: Float32Array, min: number, max: number) {
  let best = { lag: min, ncc: -1 };
  for (let lag = min; lag <= max; lag++) {
    const ncc = correlation(reference, decoded, lag);
    if (ncc > best.ncc) best = { lag, ncc };
  }
  return best;
}

/** Float samples back to 16-bit integers; @wasm-audio-decoders/flac divides by 32767 where parseWav divides by 32768. */
function asInt16(samples: Float32Array, scale = 32768): Int16Array {
  return Int16Array.from(samples, (x) => Math.round(x * scale));
}

const FLAC_DECODER_SCALE = 32767;

async function decodeFlac(bytes: Uint8Array) {
  const decoder = new FLACDecoder();
  await decoder.ready;
  try {
    return await decoder.decodeFile(bytes);
  } finally {
    decoder.free();
  }
}

describe("response formats", () => {
  it("has OpenAI's names and browser-playable Content-Types", () => {
    expect(RESPONSE_FORMATS).toEqual(["wav", "pcm", "flac", "mp3", "opus"]);
    expect(CONTENT_TYPES).toEqual({
      wav: "audio/wav",
      pcm: "audio/pcm",
      flac: "audio/flac",
      mp3: "audio/mpeg",
      opus: "audio/ogg; codecs=opus",
    });
    for (const format of RESPONSE_FORMATS) {
      using encoder = createEncoder(format, RATE);
      expect(encoder.contentType).toBe(CONTENT_TYPES[format]);
    }
  });
});

describe("wav", () => {
  it("a whole file has exact sizes and the samples rounded to 16 bits", () => {
    const pieces = encodePieces("wav", false);
    expect(pieces.slice(0, 3).map((piece) => piece.length)).toEqual([0, 0, 0]);
    const bytes = concat(pieces);
    expect(bytes).toEqual(encodeWav(signal, RATE));
    expect(bytes).toEqual(encodeAudio("wav", signal, RATE));
    const audio = parseWav(bytes);
    expect(audio.sampleRate).toBe(RATE);
    expect(asInt16(audio.channels[0] as Float32Array)).toEqual(pcm16);
  });

  it("a stream starts with the header of unknown length and sends each push's samples at once", () => {
    const pieces = encodePieces("wav", true);
    const header = streamingWavHeader(RATE);
    expect(pieces[0]?.subarray(0, header.length)).toEqual(header);
    expect(pieces.map((piece) => piece.length)).toEqual([header.length + 20_000, 26_002, 25_998, 0]);
    const bytes = concat(pieces);
    const view = new DataView(bytes.buffer);
    expect([view.getUint32(4, true), view.getUint32(header.length - 4, true)]).toEqual([0xffffffff, 0xffffffff]);
    // With its sizes filled in, the stream is the whole file.
    view.setUint32(4, bytes.length - 8, true);
    view.setUint32(header.length - 4, bytes.length - header.length, true);
    expect(bytes).toEqual(encodeWav(signal, RATE));
  });

  it("an empty stream is a header", () => {
    const encoder = createEncoder("wav", RATE, { streaming: true });
    expect(encoder.end()).toEqual(streamingWavHeader(RATE));
    expect(encodeAudio("wav", new Float32Array(0), RATE)).toEqual(encodeWav(new Float32Array(0), RATE));
  });
});

describe("pcm", () => {
  it("is 16-bit little-endian samples and nothing else", () => {
    const pieces = encodePieces("pcm", true);
    expect(pieces.map((piece) => piece.length)).toEqual([20_000, 26_002, 25_998, 0]);
    const bytes = concat(pieces);
    expect(bytes).toEqual(pcm16Bytes(signal));
    expect(bytes).toEqual(encodeAudio("pcm", signal, RATE));
    const view = new DataView(bytes.buffer);
    expect(Int16Array.from({ length: LENGTH }, (_, i) => view.getInt16(2 * i, true))).toEqual(pcm16);
  });
});

describe("flac", () => {
  it("a whole file is lossless and its STREAMINFO has the length and the MD5 of the samples", async () => {
    const pieces = encodePieces("flac", false);
    expect(pieces.slice(0, 3).map((piece) => piece.length)).toEqual([0, 0, 0]);
    const bytes = concat(pieces);
    expect(Buffer.from(bytes.subarray(0, 4)).toString("latin1")).toBe("fLaC");
    const decoded = await decodeFlac(bytes);
    expect(decoded.errors).toEqual([]);
    expect([decoded.sampleRate, decoded.bitDepth, decoded.channelData.length]).toEqual([RATE, 16, 1]);
    expect(asInt16(decoded.channelData[0] as Float32Array, FLAC_DECODER_SCALE)).toEqual(pcm16);
    // STREAMINFO (RFC 9639 §8.2): total samples in the low 36 bits of bytes 18-25, then the MD5 of the samples.
    const view = new DataView(bytes.buffer);
    expect((view.getUint8(21) & 0x0f) * 2 ** 32 + view.getUint32(22)).toBe(LENGTH);
    const md5 = createHash("md5").update(pcm16Bytes(signal)).digest("hex");
    expect(Buffer.from(bytes.subarray(26, 42)).toString("hex")).toBe(md5);
    expect(view.getUint32(12) >>> 8).toBeGreaterThan(0); // min frame size, known at the end
    expect(encodeAudio("flac", signal, RATE)).toEqual(bytes);
  });

  it("a stream sends frames as they are made and decodes to the same samples", async () => {
    const pieces = encodePieces("flac", true);
    for (const piece of pieces) expect(piece.length).toBeGreaterThan(0);
    expect(Buffer.from((pieces[0] as Uint8Array).subarray(0, 4)).toString("latin1")).toBe("fLaC");
    const bytes = concat(pieces);
    const decoded = await decodeFlac(bytes);
    expect(decoded.errors).toEqual([]);
    expect(asInt16(decoded.channelData[0] as Float32Array, FLAC_DECODER_SCALE)).toEqual(pcm16);
    // Length and MD5 unknown (0), as a stream's must be.
    const view = new DataView(bytes.buffer);
    expect((view.getUint8(21) & 0x0f) * 2 ** 32 + view.getUint32(22)).toBe(0);
    expect(bytes.subarray(26, 42)).toEqual(new Uint8Array(16));
  });

  it("disposing an unfinished encoder is quiet, and many encoders may be alive at once", async () => {
    const errors = vi.spyOn(console, "error");
    const encoders = Array.from({ length: 64 }, () => createEncoder("flac", RATE, { streaming: true }));
    const outputs = encoders.map((encoder) => [encoder.push(signal)]);
    for (const encoder of encoders.slice(32)) {
      encoder.dispose();
      encoder.dispose();
    }
    for (const [i, encoder] of encoders.slice(0, 32).entries()) outputs[i]?.push(encoder.end());
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
    const decoded = await decodeFlac(concat(outputs[31] as Uint8Array[]));
    expect(asInt16(decoded.channelData[0] as Float32Array, FLAC_DECODER_SCALE)).toEqual(pcm16);
  });
});

describe("mp3", () => {
  it("decodes to the signal, delayed by LAME's encoder and decoder delay", async () => {
    const pieces = encodePieces("mp3", true);
    const bytes = concat(pieces);
    expect([bytes[0], (bytes[1] as number) & 0xe0]).toEqual([0xff, 0xe0]); // a frame sync, no ID3 or Xing tag
    expect(pieces[0]?.length).toBeGreaterThan(0);
    const decoder = new MPEGDecoder();
    await decoder.ready;
    const decoded = decoder.decode(bytes);
    decoder.free();
    expect(decoded.errors).toEqual([]);
    expect(decoded.sampleRate).toBe(RATE);
    const samples = decoded.channelData[0] as Float32Array;
    const frame = 576; // samples per MPEG-2 Layer III frame
    const { lag, ncc } = align(signal, samples, 0, 3 * frame);
    expect(lag).toBe(576 + 529); // LAME's encoder delay + the decoder's
    expect(ncc).toBeGreaterThanOrEqual(0.99);
    expect(samples.length - lag - LENGTH).toBeGreaterThanOrEqual(0);
    expect(samples.length - lag - LENGTH).toBeLessThan(frame);
    // 64 kb/s constant bit rate: 192-byte frames at 24 kHz.
    expect(bytes.length).toBe((samples.length / frame) * 192);
  });
});

describe("opus", () => {
  it("decodes to the signal, trimmed to its exact length by pre-skip and the last granule position", async () => {
    const pieces = encodePieces("opus", true);
    for (const piece of pieces) expect(piece.length).toBeGreaterThan(0);
    const bytes = concat(pieces);
    const decoder = new OggOpusDecoder();
    await decoder.ready;
    const decoded = await decoder.decodeFile(bytes);
    decoder.free();
    expect(decoded.errors).toEqual([]);
    expect(decoded.sampleRate).toBe(48_000);
    expect(decoded.samplesDecoded).toBe(2 * LENGTH);
    // Back to 24 kHz: the tones are far below 12 kHz, so every other sample will do.
    const samples = (decoded.channelData[0] as Float32Array).filter((_, i) => i % 2 === 0);
    const { lag, ncc } = align(signal, samples, -480, 480);
    expect(lag).toBe(0);
    expect(ncc).toBeGreaterThanOrEqual(0.98);
  });

  it("streamed or whole, the same packets (only the random serial number differs)", async () => {
    const streamed = await decodeOpus(concat(encodePieces("opus", true)));
    const whole = await decodeOpus(encodeAudio("opus", signal, RATE));
    expect(whole).toEqual(streamed);
  });
});

async function decodeOpus(bytes: Uint8Array): Promise<Float32Array> {
  const decoder = new OggOpusDecoder();
  await decoder.ready;
  try {
    return (await decoder.decodeFile(bytes)).channelData[0] as Float32Array;
  } finally {
    decoder.free();
  }
}

describe("errors", () => {
  it("an unknown format lists the known ones", () => {
    const message = 'Expected one of "wav", "pcm", "flac", "mp3", "opus" for response_format, got "ogg"';
    expect(() => createEncoder("ogg" as ResponseFormat, RATE)).toThrow(new InvalidArgumentError(message));
    expect(() => createEncoder("ogg" as ResponseFormat, RATE)).toThrow(InvalidArgumentError);
    expect(() => encodeAudio("ogg" as ResponseFormat, signal, RATE)).toThrow(message);
  });

  it("a sample rate the format cannot hold", () => {
    expect(() => createEncoder("wav", 0)).toThrow("Expected an integer from 1 to 768000 for sampleRate, got 0");
    expect(() => createEncoder("pcm", 22_050.5)).toThrow(
      "Expected an integer from 1 to 768000 for sampleRate, got 22050.5",
    );
    expect(() => createEncoder("opus", 44_100)).toThrow(
      "Expected a sample rate Opus encodes (8000, 12000, 16000, 24000, 48000 Hz) for sampleRate, got 44100",
    );
    expect(() => createEncoder("mp3", 96_000)).toThrow(
      "Expected a sample rate MP3 encodes (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000 Hz) for sampleRate, got 96000",
    );
    expect(() => createEncoder("flac", 700_000)).toThrow("Expected at most 655350 Hz for sampleRate, got 700000");
  });

  it("samples that are not a Float32Array, and use after end or dispose", () => {
    for (const format of RESPONSE_FORMATS) {
      const encoder = createEncoder(format, RATE, { streaming: true });
      expect(() => encoder.push([0.5] as unknown as Float32Array)).toThrow(
        "Expected a Float32Array for samples, got an array",
      );
      encoder.end();
      expect(() => encoder.push(signal)).toThrow(new DisposedError("audio encoder"));
      expect(() => encoder.end()).toThrow("This audio encoder has been disposed");
      encoder.dispose();
      const disposed = createEncoder(format, RATE);
      disposed[Symbol.dispose]();
      expect(() => disposed.push(signal)).toThrow(DisposedError);
    }
  });
});
