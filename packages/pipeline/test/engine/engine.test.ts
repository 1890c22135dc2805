import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { encodeWav, readCodes, readWav } from "@vall-e/codec";
import { liveNativeObjects } from "@vall-e/native";
import { beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import type { SpeechRequest } from "../../src/engine/request.js";
import { type TinyBundle, tinyBundle } from "../../src/models/tiny.js";
import { type SynthesizeOptions, synthesize } from "../../src/synthesize.js";

const dir = tempDir("vall-e-engine-");
let tiny: TinyBundle;
const voice = join(dir, "voice.wav");
const noisy = join(dir, "noisy.wav");
const tone = (hz: number, n: number, rate: number) =>
  Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin((2 * Math.PI * hz * i) / rate));
writeFileSync(voice, encodeWav(tone(180, 12000, 16000), 16000));
writeFileSync(noisy, encodeWav(tone(300, 9600, 24000), 24000));

// Small limits: the tiny random LM would otherwise run to the longest output.
const settings = {
  language: "en" as const,
  sampling: { maxSteps: 3 },
  maxDuration: 0.5,
  promptSeconds: 0.4,
};

beforeAll(async () => {
  tiny = await tinyBundle(join(dir, "tiny"));
});

const files = () => ({ lm: tiny.lm, codec: tiny.codec, tokenizer: tiny.tokenizer, vocos: tiny.vocos });

describe("Engine", () => {
  it("serves 20 requests on models loaded once; each equals the one-shot synthesize with the same seed", async () => {
    const engine = await Engine.load({ models: files(), threads: 2 });
    expect(liveNativeObjects()).toMatchObject({ lmModels: 1, codecs: 1, vocoders: 1, lmContexts: 0 });
    const samples = (await readWav(voice)).channels[0] as Float32Array;
    const prepared = await engine.prepareVoice(voice);
    await synthesize({
      ...settings,
      text: "x.",
      models: files(),
      reference: voice,
      seed: 1,
      artifactsDir: join(dir, "codes"),
    });
    const promptArtifact = await readCodes(join(dir, "codes", "prompt.codes.npy"));

    // [engine request, the same as one-shot options with files]
    const cases: [SpeechRequest, Partial<SynthesizeOptions>][] = [];
    const texts = ["Hello there.", "One. Two.", "A longer sentence, with a comma."];
    for (let i = 0; i < 20; i++) {
      const text = texts[i % texts.length] as string;
      const modality = i % 2 === 0 ? ("nar-len" as const) : ("ar+nar" as const);
      const seed = 100 + i;
      const kind = i % 5;
      if (kind === 0)
        cases.push([
          { text, reference: voice, modality, seed },
          { text, reference: voice, modality, seed },
        ]);
      else if (kind === 1)
        cases.push([
          { text, reference: { samples, sampleRate: 16000 }, modality, seed },
          { text, reference: voice, modality, seed },
        ]);
      else if (kind === 2)
        cases.push([
          { text, reference: prepared, modality, seed },
          { text, reference: voice, modality, seed },
        ]);
      else if (kind === 3)
        cases.push([
          { text, promptCodes: promptArtifact, modality, seed },
          { text, promptCodes: join(dir, "codes", "prompt.codes.npy"), modality, seed },
        ]);
      else {
        const task = i % 10 === 4 ? ("ns" as const) : ("sr" as const);
        cases.push([
          { text: "", task, reference: noisy, modality, seed },
          { text: "", task, reference: noisy, modality, seed },
        ]);
      }
    }
    let maxContexts = 0;
    for (const [request, oneShot] of cases) {
      const result = await engine.synthesize({
        ...settings,
        ...request,
        onProgress: () => {
          maxContexts = Math.max(maxContexts, liveNativeObjects().lmContexts);
          expect(liveNativeObjects()).toMatchObject({ lmModels: 1, codecs: 1 });
        },
      });
      expect(result.audio.length).toBeGreaterThan(0);
      const expected = await synthesize({ ...settings, ...oneShot, models: files(), threads: 2 });
      expect(result.sentences).toEqual(expected.sentences);
      expect(result.audio).toEqual(expected.audio);
    }
    expect(maxContexts).toBe(1);
    await engine.dispose();
    expect(liveNativeObjects()).toEqual({ lmModels: 0, lmContexts: 0, codecs: 0, vocoders: 0 });
  }, 240_000);

  it("4 concurrent requests give what the same 4 give one after another (default threads: shared among them)", async () => {
    await using engine = await Engine.load({ models: files() });
    const requests: SpeechRequest[] = [
      { ...settings, text: "First one. And more.", reference: voice, seed: 1 },
      { ...settings, text: "Second.", reference: voice, seed: 2, modality: "ar+nar" },
      { ...settings, text: "Third here.", seed: 3 },
      { ...settings, text: "", task: "ns", reference: noisy, seed: 4 },
    ];
    const sequential: Awaited<ReturnType<Engine["synthesize"]>>[] = [];
    for (const request of requests) sequential.push(await engine.synthesize(request));
    let peak = 0;
    const concurrent = await Promise.all(
      requests.map((request) =>
        engine.synthesize({ ...request, onProgress: () => (peak = Math.max(peak, engine.activeRequests)) }),
      ),
    );
    expect(peak).toBeGreaterThan(1); // they really ran together
    concurrent.forEach((result, i) => {
      expect(result.audio).toEqual(sequential[i]?.audio);
    });
  }, 120_000);

  it("an aborted request frees its context and leaves the engine usable; a stream stopped early ends its request", async () => {
    await using engine = await Engine.load({ models: files(), threads: 2 });
    const controller = new AbortController();
    const aborted = engine.synthesize({
      ...settings,
      text: "Cut short.",
      reference: voice,
      seed: 7,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.stage === "nar-len") controller.abort();
      },
    });
    await expect(aborted).rejects.toMatchObject({ code: "ERR_CANCELLED" });
    expect(liveNativeObjects().lmContexts).toBe(0);
    expect(engine.activeRequests).toBe(0);
    const after = await engine.synthesize({ ...settings, text: "Still here.", reference: voice, seed: 7 });
    expect(after.audio.length).toBeGreaterThan(0);

    for await (const chunk of engine.stream({ ...settings, text: "One. Two. Three.", seed: 8 })) {
      expect(chunk.index).toBe(0);
      break;
    }
    expect(engine.activeRequests).toBe(0);
    expect(liveNativeObjects().lmContexts).toBe(0);
  }, 60_000);

  it("dispose while a request runs rejects it with ERR_DISPOSED; the engine is unusable afterwards", async () => {
    const engine = await Engine.load({ models: files(), threads: 2 });
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const request = engine.synthesize({
      ...settings,
      text: "Long enough to be stopped. Another one.",
      reference: voice,
      seed: 9,
      onProgress: (e) => {
        if (e.stage === "nar-len") started();
      },
    });
    await running;
    await engine.dispose();
    await expect(request).rejects.toMatchObject({
      code: "ERR_DISPOSED",
      message: "The engine was disposed while this request ran",
    });
    expect(liveNativeObjects()).toEqual({ lmModels: 0, lmContexts: 0, codecs: 0, vocoders: 0 });
    await expect(engine.synthesize({ text: "Again." })).rejects.toThrow("This Engine has been disposed");
    expect(() => engine.stream({ text: "Again." })).toThrow("This Engine has been disposed");
    await engine.dispose(); // idempotent
  }, 60_000);

  it("Engine.load with a corrupt model file gives its typed error and leaves nothing loaded", async () => {
    const corrupt = join(dir, "corrupt.gguf");
    writeFileSync(corrupt, Buffer.from("GGUF this is not a model"));
    await expect(Engine.load({ models: { ...files(), lm: corrupt } })).rejects.toMatchObject({
      code: "ERR_MODEL_FORMAT",
    });
    expect(liveNativeObjects()).toEqual({ lmModels: 0, lmContexts: 0, codecs: 0, vocoders: 0 });
    await expect(Engine.load({ models: { ...files(), codec: corrupt } })).rejects.toMatchObject({
      code: "ERR_CODEC_FORMAT",
    });
    expect(liveNativeObjects()).toEqual({ lmModels: 0, lmContexts: 0, codecs: 0, vocoders: 0 });
    await expect(Engine.load({ models: { ...files(), vocos: corrupt } })).rejects.toMatchObject({
      code: "ERR_CODEC_FORMAT",
      message: expect.stringContaining(corrupt),
    });
    expect(liveNativeObjects()).toEqual({ lmModels: 0, lmContexts: 0, codecs: 0, vocoders: 0 });
    await expect(Engine.load({ models: files(), decoder: "vocoder" as "encodec" })).rejects.toThrow(
      'Expected one of "vocos", "encodec" for decoder, got "vocoder"',
    );
  });

  it("refuses a request it cannot serve, before any work", async () => {
    await using engine = await Engine.load({ models: files(), need: ["codec"] });
    await expect(engine.synthesize({ text: "Hi." })).rejects.toThrow(
      "This engine was loaded without the tokenizer, which it needs to phonemize text (Engine.load({ need }))",
    );
    await expect(engine.synthesize({ text: "Hi.", maxDuration: 0 })).rejects.toThrow(
      "Expected seconds in (0, 600] for maxDuration, got 0",
    );
    await expect(engine.synthesize({ text: "Hi.", sampling: { topP: 2 } })).rejects.toThrow(
      "Expected a number in (0, 1] for sampling.topP, got 2",
    );
    await expect(engine.prepareVoice({ samples: new Float32Array(0), sampleRate: 16000 })).rejects.toThrow(
      "Expected at least one sample for reference.samples, got a Float32Array of length 0",
    );
    expect(engine.activeRequests).toBe(0);
  });
});
