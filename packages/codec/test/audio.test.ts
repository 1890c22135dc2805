import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import wavefile from "wavefile";
import { toCodecInput } from "../src/audio/prepare.js";
import { resample } from "../src/audio/resample.js";
import { encodeWav, parseWav, pcm16Bytes, readWav, streamingWavHeader, writeWav } from "../src/audio/wav.js";

const { WaveFile } = wavefile;

function wavBytes(
  channels: number,
  rate: number,
  depth: string,
  data: ArrayLike<number> | ArrayLike<number>[],
): Uint8Array {
  const wav = new WaveFile();
  wav.fromScratch(channels, rate, depth, data);
  return wav.toBuffer();
}

describe("WAV reading", () => {
  it("reads every PCM integer and float encoding to [-1, 1)", () => {
    expect(parseWav(wavBytes(1, 8000, "8", [0, 128, 255])).channels[0]).toEqual(Float32Array.from([-1, 0, 127 / 128]));
    expect(parseWav(wavBytes(1, 16000, "16", [-32768, 0, 16384])).channels[0]).toEqual(Float32Array.from([-1, 0, 0.5]));
    expect(parseWav(wavBytes(1, 22050, "24", [-8388608, 4194304])).channels[0]).toEqual(Float32Array.from([-1, 0.5]));
    expect(parseWav(wavBytes(1, 44100, "32", [-2147483648, 1073741824])).channels[0]).toEqual(
      Float32Array.from([-1, 0.5]),
    );
    expect(parseWav(wavBytes(1, 48000, "32f", [0.25, -0.75])).channels[0]).toEqual(Float32Array.from([0.25, -0.75]));
    const f64 = parseWav(wavBytes(1, 96000, "64", [0.125]));
    expect(f64).toMatchObject({ sampleRate: 96000, encoding: "64" });
  });

  it("keeps every channel, and prepares the first (or the mix) at 24 kHz", async () => {
    const stereo = parseWav(
      wavBytes(2, 24000, "16", [
        [16384, 16384],
        [0, -16384],
      ]),
    );
    expect(stereo.channels.map((c) => Array.from(c))).toEqual([
      [0.5, 0.5],
      [0, -0.5],
    ]);
    expect(Array.from(await toCodecInput(stereo))).toEqual([0.5, 0.5]);
    expect(Array.from(await toCodecInput(stereo, { channel: "mix" }))).toEqual([0.25, 0]);
    await expect(toCodecInput(stereo, { channel: "left" as "mix" })).rejects.toThrow(
      'Expected one of "first", "mix" for channel, got "left"',
    );
  });

  it("rejects what it cannot read, with the file named", () => {
    expect(() => parseWav(new TextEncoder().encode("definitely not a wav file"), "a.wav")).toThrow(
      "a.wav is not a WAV file this reader supports (Not a supported format.)",
    );
    const full = wavBytes(1, 16000, "16", new Int16Array(1000));
    expect(() => parseWav(full.subarray(0, 500), "cut.wav")).toThrow(
      "cut.wav is truncated: its data chunk declares 2000 bytes but holds 456",
    );
    expect(() => parseWav(wavBytes(1, 16000, "16", []), "empty.wav")).toThrow("empty.wav holds no samples");
    expect(() => parseWav(wavBytes(1, 16000, "32f", [0, Number.NaN]), "nan.wav")).toThrow(
      "nan.wav holds a non-finite sample (NaN) at sample 1 of channel 0",
    );
    expect(() => parseWav(wavBytes(1, 8000, "8a", [0, 1]), "alaw.wav")).toThrow(
      "alaw.wav uses an unsupported WAV encoding (format 6, 8a bits): expected PCM 8/16/24/32-bit integer or 32/64-bit float",
    );
  });

  it("names a missing file", async () => {
    await expect(readWav("/nonexistent/voice.wav")).rejects.toMatchObject({
      code: "ERR_FILE_NOT_FOUND",
      message: "Audio file not found: /nonexistent/voice.wav",
    });
  });
});

describe("WAV writing", () => {
  it("writes 16-bit PCM (clamped, rounded) or 32-bit float, atomically", async () => {
    const dir = tempDir("wav-");
    const samples = Float32Array.from([0, 0.5, -0.5, 1.5, -2]);
    await writeWav(join(dir, "a.wav"), samples, 24000);
    expect(Array.from((await readWav(join(dir, "a.wav"))).channels[0] as Float32Array)).toEqual([
      0,
      0.5,
      -0.5,
      32767 / 32768,
      -1,
    ]);
    await writeWav(join(dir, "b.wav"), samples, 24000, "f32");
    expect((await readWav(join(dir, "b.wav"))).channels[0]).toEqual(samples);
    await expect(writeWav(join(dir, "missing-dir", "c.wav"), samples, 24000)).rejects.toMatchObject({
      code: "ERR_FILE_WRITE",
    });
    expect(readdirSync(dir).sort()).toEqual(["a.wav", "b.wav"]);
    expect(encodeWav(samples, 24000).length).toBe(44 + 2 * samples.length);
  });

  it("a streamed WAV: a header of unknown length, then pieces whose bytes are encodeWav's for the whole", () => {
    const samples = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 7) * 1.2);
    const whole = encodeWav(samples, 24000);
    const header = streamingWavHeader(24000);
    expect(header.length).toBe(44);
    const view = new DataView(header.buffer, header.byteOffset);
    expect([view.getUint32(4, true), view.getUint32(40, true)]).toEqual([0xffffffff, 0xffffffff]);
    expect(header.subarray(8, 40)).toEqual(whole.subarray(8, 40)); // WAVE, fmt: 24 kHz, mono, 16-bit
    const streamed = Buffer.concat([pcm16Bytes(samples.subarray(0, 300)), pcm16Bytes(samples.subarray(300))]);
    expect(streamed).toEqual(Buffer.from(whole.subarray(44)));
    // …and it reads back: the data runs to the end of the file (sizes 0xFFFFFFFF, or 0, mean "unknown").
    const file = Buffer.concat([header, streamed]);
    expect(parseWav(file).channels[0]).toEqual(parseWav(whole).channels[0]);
    const zeroSizes = Buffer.from(file);
    zeroSizes.writeUInt32LE(0, 4);
    zeroSizes.writeUInt32LE(0, 40);
    expect(parseWav(zeroSizes).channels[0]).toEqual(parseWav(whole).channels[0]);
  });
});

describe("resampling", () => {
  it("converts to 24 kHz with the reference's length and keeps a tone in phase", async () => {
    const tone = Float32Array.from({ length: 44100 }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / 44100));
    const out = await resample(tone, 44100, 24000);
    expect(out.length).toBe(24000);
    let worst = 0;
    for (let i = 200; i < 23800; i++)
      worst = Math.max(worst, Math.abs((out[i] as number) - Math.sin((2 * Math.PI * 440 * i) / 24000)));
    expect(worst).toBeLessThan(1e-3);
    expect((await resample(new Float32Array(101295), 44100, 24000)).length).toBe(55127); // ceil(101295 · 24000 / 44100)
    expect(await resample(tone, 24000, 24000)).toBe(tone);
  });
});

describe("a WAV file written by the project reads back", () => {
  it("through readWav", async () => {
    const dir = tempDir("wav-");
    writeFileSync(join(dir, "x.wav"), wavBytes(1, 24000, "16", [100, 200]));
    expect((await readWav(join(dir, "x.wav"))).channels[0]?.length).toBe(2);
  });
});
