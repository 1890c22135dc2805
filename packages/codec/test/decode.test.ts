import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { decodeAudio, readAudio, sniffAudioFormat } from "../src/audio/decode.js";

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));

/** Power of a frequency in a signal (Goertzel), per sample. */
function power(samples: Float32Array, rate: number, hz: number): number {
  const k = (2 * Math.PI * hz) / rate;
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s = x + 2 * Math.cos(k) * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return (s1 * s1 + s2 * s2 - 2 * Math.cos(k) * s1 * s2) / samples.length ** 2;
}

describe("any audio in (fixtures: make-audio.mjs beside them)", () => {
  const reference = readFileSync(fixture("tone.wav"));
  for (const [file, format] of [
    ["tone.wav", "wav"],
    ["tone.flac", "flac"],
    ["tone.mp3", "mp3"],
    ["tone.opus", "opus"],
    ["tone.ogg", "vorbis"],
  ] as const) {
    it(`${file}: recognised by its bytes as ${format}, decoded to the same 1 s tone`, async () => {
      expect(sniffAudioFormat(readFileSync(fixture(file)))).toBe(format);
      const audio = await readAudio(fixture(file));
      const samples = audio.channels[0] as Float32Array;
      const seconds = samples.length / audio.sampleRate;
      expect(audio.channels.length).toBeGreaterThanOrEqual(1); // mpg123 gives a mono MP3 as two equal channels
      expect(seconds).toBeGreaterThan(0.95);
      expect(seconds).toBeLessThan(1.1);
      // The tone's two partials, far above a frequency it does not have.
      const noise = power(samples, audio.sampleRate, 500);
      expect(power(samples, audio.sampleRate, 330)).toBeGreaterThan(100 * noise);
      expect(power(samples, audio.sampleRate, 660)).toBeGreaterThan(20 * noise);
      if (format === "flac") {
        // Lossless: the WAV it came from (to the decoders' float scaling).
        const wav = (await decodeAudio(reference, "tone.wav")).channels[0] as Float32Array;
        expect(samples.length).toBe(wav.length);
        expect(Math.max(...samples.map((x, i) => Math.abs(x - (wav[i] as number))))).toBeLessThan(1e-4);
      }
    });
  }

  it("anything else is refused with the formats it could have been", async () => {
    await expect(decodeAudio(new TextEncoder().encode("just some text here"), "notes.txt")).rejects.toThrow(
      "notes.txt: not an audio file this build reads (expected WAV, FLAC, MP3, Ogg Opus or Ogg Vorbis)",
    );
    const flac = readFileSync(fixture("tone.flac"));
    await expect(decodeAudio(flac.subarray(0, 40), "cut.flac")).rejects.toThrow(
      "cut.flac: cannot decode this flac file",
    );
    await expect(readAudio("/nonexistent/voice.mp3")).rejects.toThrow("Audio file not found: /nonexistent/voice.mp3");
    // Special files are refused at once, never read without end.
    await expect(readAudio("/dev/zero")).rejects.toMatchObject({
      code: "ERR_NOT_A_FILE",
      message: "Audio file /dev/zero is not a regular file (a device)",
    });
    await expect(readAudio(fileURLToPath(new URL("fixtures", import.meta.url)))).rejects.toThrow(
      "is not a regular file",
    );
  });
});
