import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binding } from "../lib/binding.js";
import { CancelledError, DisposedError, liveNativeObjects, VocosModel, type VocosTensorData } from "../lib/index.js";
import { referenceVocosDecode, tinyVocosTensors } from "./vocos-reference.js";

function randomCodes(codebooks: number, frames: number, seed: number): Int16Array {
  let state = seed >>> 0;
  return Int16Array.from({ length: codebooks * frames }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % 1024;
  });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

const tensors = tinyVocosTensors();

describe("VocosModel against a float64 reference of the official decode", () => {
  let model: VocosModel;
  beforeAll(async () => {
    model = await VocosModel.create(tensors);
  });
  afterAll(async () => {
    await model.dispose();
  });

  it("reads its shape from the tensors", () => {
    expect(model.info).toMatchObject({
      sampleRate: 24000,
      hopLength: 320,
      nFft: 1280,
      inputChannels: 8,
      dim: 16,
      intermediateDim: 48,
      layers: 2,
      bandwidths: 4,
      codebooks: 16,
      bins: 1024,
    });
  });

  for (const [codebooks, frames] of [
    [8, 1],
    [8, 2],
    [2, 5],
    [4, 37],
    [16, 12],
  ] as const) {
    it(`features, backbone and audio for ${codebooks} codebooks × ${frames} frames`, async () => {
      const codes = randomCodes(codebooks, frames, 100 * codebooks + frames);
      const reference = referenceVocosDecode(tensors, codes, codebooks);
      const features = await model.compute(codes, codebooks, "features");
      const backbone = await model.compute(codes, codebooks, "backbone");
      const audio = await model.decode(codes, codebooks, { threads: 2 });
      expect(audio.length).toBe(320 * frames);
      expect(maxAbsDiff(features, reference.features)).toBeLessThan(1e-5);
      expect(maxAbsDiff(backbone, reference.backbone)).toBeLessThan(2e-5);
      const scale = Math.max(...reference.audio.map(Math.abs));
      expect(scale).toBeGreaterThan(0.01);
      expect(maxAbsDiff(audio, reference.audio)).toBeLessThan(2e-5 * Math.max(1, scale));
    });
  }

  it("an explicit bandwidth decodes codes of any count (1 and 3 codebooks at bandwidth 2, 8 at 0)", async () => {
    for (const [codebooks, bandwidthId] of [
      [1, 2],
      [3, 2],
      [8, 0],
    ] as const) {
      const codes = randomCodes(codebooks, 9, 31 + codebooks);
      const reference = referenceVocosDecode(tensors, codes, codebooks, bandwidthId);
      const audio = await model.decode(codes, codebooks, { bandwidthId });
      expect(maxAbsDiff(audio, reference.audio)).toBeLessThan(2e-5 * Math.max(1, ...reference.audio.map(Math.abs)));
    }
    await expect(model.decode(randomCodes(8, 2, 1), 8, { bandwidthId: 4 })).rejects.toThrow(
      /Expected an integer from 0 to 3 for bandwidthId, got 4/,
    );
    await expect(model.decode(randomCodes(17, 2, 1), 17, { bandwidthId: 2 })).rejects.toThrow(
      /Expected an integer from 1 to 16 for codebooks, got 17/,
    );
  });

  it("the bandwidth follows the codebook count (8 and 16 codebooks of the same first 8 differ)", async () => {
    const codes16 = randomCodes(16, 20, 9);
    const codes8 = codes16.slice(0, 8 * 20);
    const a = await model.decode(codes8, 8);
    const b = await model.decode(codes16, 16);
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-3);
  });

  it("chunked decodes equal the whole decode (chunks of 1, 7 and 40 frames, concurrently)", async () => {
    const codes = randomCodes(8, 150, 77);
    const whole = await model.decode(codes, 8, { chunkFrames: 1 << 20 });
    const chunked = await Promise.all([1, 7, 40].map((chunkFrames) => model.decode(codes, 8, { chunkFrames })));
    for (const audio of chunked) expect(maxAbsDiff(audio, whole)).toBeLessThan(1e-5);
  });

  it("refuses bad codes, codebook counts and options with typed errors", async () => {
    const codes = randomCodes(8, 4, 1);
    await expect(model.decode(codes, 3)).rejects.toThrow(/Expected 2, 4, 8, 16 codebooks .* for codebooks, got 3/);
    await expect(model.decode(randomCodes(32, 2, 1), 32)).rejects.toThrow(/for codebooks, got 32/);
    await expect(model.decode(new Int16Array(0), 8)).rejects.toThrow(/non-empty multiple of 8 codes/);
    await expect(model.decode(codes.slice(0, 31), 8)).rejects.toThrow(/non-empty multiple of 8 codes/);
    const bad = codes.slice();
    bad[9] = 1024;
    await expect(model.decode(bad, 8)).rejects.toThrow(/Expected codes from 0 to 1023 for codes\[2\]\[1\], got 1024/);
    bad[9] = -1;
    await expect(model.decode(bad, 8)).rejects.toThrow(/got -1/);
    await expect(model.decode(codes, 8, { chunkFrames: 0 })).rejects.toThrow(/chunkFrames/);
    await expect(model.decode(codes, 8, { threads: -2 })).rejects.toThrow(/threads/);
  });

  it("an aborted decode rejects with CancelledError", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(model.decode(randomCodes(8, 10, 2), 8, { signal: controller.signal })).rejects.toBeInstanceOf(
      CancelledError,
    );
    const running = new AbortController();
    const call = model.decode(randomCodes(8, 2000, 3), 8, { signal: running.signal, chunkFrames: 20 });
    running.abort();
    await expect(call).rejects.toBeInstanceOf(CancelledError);
  });
});

describe("VocosModel.create refuses a state dict that is not Vocos's", () => {
  const without = (name: string) => tensors.filter((t) => t.name !== name);
  const replaced = (name: string, change: (t: VocosTensorData) => VocosTensorData) =>
    tensors.map((t) => (t.name === name ? change(t) : t));

  it.each([
    ["a missing key", without("backbone.convnext.1.gamma"), /tensor 'backbone.convnext.1.gamma' \[16\] is missing/],
    [
      "an unexpected key",
      [...tensors, { name: "backbone.extra", shape: [2], data: new Float32Array(2) }],
      /unexpected tensor 'backbone.extra' \[2\]/,
    ],
    [
      "a wrong shape",
      replaced("backbone.convnext.0.pwconv2.weight", (t) => ({ ...t, shape: [48, 16] })),
      /tensor 'backbone.convnext.0.pwconv2.weight' has shape \[48, 16\], expected \[16, 48\]/,
    ],
    [
      "a non-finite value",
      replaced("head.out.bias", (t) => ({
        ...t,
        data: Float32Array.from(t.data, (v, i) => (i === 5 ? Number.NaN : v)),
      })),
      /tensor 'head.out.bias' holds a non-finite value .* at index 5/,
    ],
    [
      "a window of another length",
      replaced("head.istft.window", (t) => ({ ...t, shape: [1024], data: t.data.slice(0, 1024) })),
      /head.istft.window has 1024 values, expected n_fft = 1280/,
    ],
    [
      "a codebook table that is not whole codebooks",
      replaced("feature_extractor.codebook_weights", (t) => ({ ...t, shape: [1000, 8], data: t.data.slice(0, 8000) })),
      /has 1000 rows, expected a multiple of 1024/,
    ],
  ])("%s", async (_, state, message) => {
    const before = liveNativeObjects().vocoders;
    await expect(VocosModel.create(state, "tiny.pt")).rejects.toMatchObject({
      code: "ERR_CODEC_FORMAT",
      message: expect.stringMatching(message),
    });
    expect(liveNativeObjects().vocoders).toBe(before);
  });

  it("a data array of the wrong length is refused before it reaches the core", async () => {
    const state = replaced("head.out.bias", (t) => ({ ...t, data: t.data.slice(1) }));
    await expect(VocosModel.create(state)).rejects.toThrow(/Expected 1282 values for tensor 'head.out.bias', got 1281/);
  });

  it("the addon refuses a decode after dispose", async () => {
    const model = await VocosModel.create(tensors);
    await model.dispose();
    await expect(model.decode(randomCodes(8, 2, 1), 8)).rejects.toBeInstanceOf(DisposedError);
    expect(typeof binding().createVocos).toBe("function");
  });
});
