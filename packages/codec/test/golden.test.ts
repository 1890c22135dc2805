import { readFileSync } from "node:fs";
import { fixture } from "@tooling/config/fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCodes } from "../src/artifact/codes-artifact.js";
import { parseNpy } from "../src/artifact/npy.js";
import { readWav } from "../src/audio/wav.js";
import { Codec } from "../src/codec.js";
import { parseEncodecBin } from "../src/weights/encodec-bin.js";

const dir = fixture("encodec");
const file = (name: string) => `${dir.path}/${name}`;
const npy = (name: string) => parseNpy(readFileSync(file(name)), name);

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

/**
 * Compare codes with the golden ones, frame by frame: a frame agrees, or its first differing level is a distance
 * tie — with our latent, the two candidates are within `tolerance` (relative) of each other. Later levels of that
 * frame follow from the flip and are not counted. Returns [identical codes, unexplained frames].
 */
function compareCodes(
  codes: Int16Array,
  golden: ArrayLike<number>,
  latent: Float32Array,
  books: Float32Array[],
  levels: number,
  tolerance = 1e-4,
): { identical: number; unexplained: number; ties: number } {
  const frames = codes.length / levels;
  let identical = 0;
  let unexplained = 0;
  let ties = 0;
  for (let i = 0; i < codes.length; i++) if (codes[i] === golden[i]) identical++;
  for (let t = 0; t < frames; t++) {
    const residual = Float64Array.from(latent.subarray(t * 128, (t + 1) * 128));
    for (let q = 0; q < levels; q++) {
      const ours = codes[q * frames + t] as number;
      const theirs = golden[q * frames + t] as number;
      const book = books[q] as Float32Array;
      if (ours !== theirs) {
        const distance = (code: number) => {
          let sum = 0;
          for (let d = 0; d < 128; d++) sum += ((residual[d] as number) - (book[code * 128 + d] as number)) ** 2;
          return sum;
        };
        const a = distance(ours);
        const b = distance(theirs);
        if (Math.abs(a - b) <= tolerance * Math.max(a, b)) ties++;
        else unexplained++;
        break;
      }
      for (let d = 0; d < 128; d++) residual[d] = (residual[d] as number) - (book[ours * 128 + d] as number);
    }
  }
  return { identical, unexplained, ties };
}

describe.skipIf(!dir.present)(`EnCodec vs the official PyTorch outputs ${dir.reason}`, () => {
  let f32: Codec;
  let f16: Codec;
  let books32: Float32Array[];
  let books16: Float32Array[];
  beforeAll(async () => {
    f32 = await Codec.load(file("encodec_random_f32.bin"));
    f16 = await Codec.load(file("encodec_random_f16.bin"));
    const bookOf = (name: string) => {
      const bin = parseEncodecBin(readFileSync(file(name)), name);
      return Array.from(
        { length: 8 },
        (_, q) => bin.tensors.get(`quantizer.vq.layers.${q}._codebook.embed`)?.data as Float32Array,
      );
    };
    books32 = bookOf("encodec_random_f32.bin");
    books16 = bookOf("encodec_random_f16.bin");
  }, 60_000);
  afterAll(async () => {
    await f32.dispose();
    await f16.dispose();
  });

  it("decodes the golden codes within 1e-5 (f32 weights)", async () => {
    const random = await readCodes(file("golden_random_codes_seed7.npy"));
    expect([random.codebooks, random.frames]).toEqual([8, 150]);
    expect(maxAbs(await f32.decode(random), npy("golden_random_codes_seed7_decoded.npy").data)).toBeLessThanOrEqual(
      1e-5,
    );
    const prompt = await readCodes(file("golden_prompt_codes.npy"));
    expect(maxAbs(await f32.decode(prompt), npy("golden_prompt_decoded.npy").data)).toBeLessThanOrEqual(1e-5);
  });

  it("encodes the golden wav to the golden codes, any difference a distance tie (f32 weights)", async () => {
    const wav = npy("golden_prompt_wav_f32.npy").data as Float32Array;
    const codes = await f32.encode(wav, { bandwidth: 6 });
    const golden = npy("golden_prompt_codes.npy").data;
    const result = compareCodes(codes, golden, await f32.encodeLatent(wav), books32, 8);
    expect(result.unexplained).toBe(0);
    expect(result.identical / codes.length).toBeGreaterThanOrEqual(0.99);
    // The WAV file itself decodes to the same samples (int16 / 32768) and so to the same codes.
    const audio = await readWav(file("prompt_24k.wav"));
    expect(audio.sampleRate).toBe(24000);
    expect(maxAbs(audio.channels[0] as Float32Array, wav)).toBe(0);
    expect((await f32.encodeFile(file("prompt_24k.wav"))).codes).toEqual(codes);
  });

  it("matches the f16-weight goldens with the published f16 layout", async () => {
    const random = await readCodes(file("golden_random_codes_seed7.npy"));
    expect(
      maxAbs(await f16.decode(random), npy("golden_f16w_random_codes_seed7_decoded.npy").data),
    ).toBeLessThanOrEqual(1e-4);
    const wav = npy("golden_prompt_wav_f32.npy").data as Float32Array;
    const codes = await f16.encode(wav);
    const result = compareCodes(
      codes,
      npy("golden_f16w_prompt_codes.npy").data,
      await f16.encodeLatent(wav),
      books16,
      8,
    );
    expect(result.unexplained).toBe(0);
  });

  it("f16 weights agree with f32 within 2e-3 on decoded audio (peaks ≈ 1.3; measured 9.5e-4, SNR 64 dB)", async () => {
    const random = await readCodes(file("golden_random_codes_seed7.npy"));
    expect(maxAbs(await f16.decode(random), await f32.decode(random))).toBeLessThanOrEqual(2e-3);
  });

  it("30 s: chunked processing equals the whole signal", async () => {
    const samples = Float32Array.from({ length: 30 * 24000 }, (_, i) => 0.3 * Math.sin(i / 13) * Math.sin(i / 2400));
    const whole = await f16.encode(samples, { chunkFrames: 1 << 20 });
    expect(await f16.encode(samples)).toEqual(whole);
    const codes = { codes: whole, codebooks: 8 };
    expect(maxAbs(await f16.decode(codes), await f16.decode(codes, { chunkFrames: 1 << 20 }))).toBe(0);
  });

  it("long audio: the same in any chunk size (12 s in chunks of 37, 250 and the whole; 120 s is in the benchmark)", async () => {
    const samples = Float32Array.from({ length: 12 * 24000 }, (_, i) => 0.3 * Math.sin(i / 17) * Math.sin(i / 9000));
    const codes = await f16.encode(samples, { chunkFrames: 1 << 20 });
    expect(codes.length).toBe(8 * 900);
    expect(await f16.encode(samples, { chunkFrames: 37 })).toEqual(codes);
    expect(await f16.encode(samples, { chunkFrames: 250 })).toEqual(codes);
    const audio = await f16.decode({ codes, codebooks: 8 }, { chunkFrames: 1 << 20 });
    expect(audio.length).toBe(12 * 24000);
    expect(maxAbs(await f16.decode({ codes, codebooks: 8 }, { chunkFrames: 37 }), audio)).toBe(0);
  });
});
