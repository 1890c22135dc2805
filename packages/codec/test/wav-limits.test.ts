/** WAV headers the codec cannot take are refused by name: a rate the resampler cannot convert, 16-bit float. */
import { describe, expect, it } from "vitest";
import { parseWav } from "../src/audio/wav.js";

function wav(format: number, bits: number, rate: number, samples = 100): Uint8Array {
  const bytes = Buffer.alloc(44 + (bits / 8) * samples);
  bytes.write("RIFF", 0);
  bytes.writeUInt32LE(bytes.length - 8, 4);
  bytes.write("WAVEfmt ", 8);
  bytes.writeUInt32LE(16, 16);
  bytes.writeUInt16LE(format, 20);
  bytes.writeUInt16LE(1, 22);
  bytes.writeUInt32LE(rate, 24);
  bytes.writeUInt32LE((rate * bits) / 8, 28);
  bytes.writeUInt16LE(bits / 8, 32);
  bytes.writeUInt16LE(bits, 34);
  bytes.write("data", 36);
  bytes.writeUInt32LE((bits / 8) * samples, 40);
  return new Uint8Array(bytes);
}

describe("WAV headers the codec cannot take", () => {
  it("a rate above what the resampler converts is named", () => {
    expect(() => parseWav(wav(1, 16, 768_000), "fast.wav")).toThrow(
      "fast.wav is sampled at 768000 Hz: at most 192000 Hz can be resampled for the codec",
    );
    expect(parseWav(wav(1, 16, 192_000), "ok.wav").sampleRate).toBe(192_000);
  });

  it("16-bit IEEE float is refused instead of read as integers", () => {
    expect(() => parseWav(wav(3, 16, 24_000), "half.wav")).toThrow(
      "half.wav uses 16-bit IEEE float samples: expected 32- or 64-bit float (or PCM integer)",
    );
  });
});
