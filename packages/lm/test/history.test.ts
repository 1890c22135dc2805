import { describe, expect, it } from "vitest";
import { generateAr } from "../src/inference/ar.js";
import { generate } from "../src/inference/generate.js";
import { generateNarLen } from "../src/inference/nar-len.js";
import { LanguageModel } from "../src/language-model.js";
import { arSampler, narLenSampler, resolveSampling } from "../src/sampling/options.js";
import { createRng } from "../src/sampling/rng.js";
import { tinyModel } from "./tiny.js";

const prompt = Array.from({ length: 8 }, (_, l) => Array.from({ length: 10 }, (_, t) => (t * 53 + l * 7) % 1024));
const earlier = { phonemes: [1, 30, 31, 32, 2], codes: [5, 600, 7, 800, 9, 1000] };
const current = { phonemes: [1, 40, 41, 2], lang: "en" as const, prompt };

describe("rolling context (TTS.inference context_history)", () => {
  it("generate: the len pass measures this utterance alone; the earlier codes are not in the result", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    const options = { ...current, seed: 3, sampling: { maxSteps: 3 }, maxDuration: 1 };
    const alone = await generate(model, options);
    const continued = await generate(model, { ...options, history: earlier });
    expect(continued.predictedFrames).toBe(alone.predictedFrames);
    expect(continued.codes.map((level) => level.length)).toEqual(alone.codes.map((level) => level.length));
    expect(continued.codes).not.toEqual(alone.codes); // the context changes what is said
    expect((await generate(model, { ...options, history: earlier })).codes).toEqual(continued.codes);
    const ar = await generate(model, { ...options, modality: "ar+nar", maxDuration: 0.2, history: earlier });
    expect(ar.codes).toHaveLength(8);
    expect(ar.codes[0]?.length).toBeLessThanOrEqual(15);
  });

  it("the text is the earlier phonemes then this one's, without the </eos><bos> between; NAR-len keeps the prefix fixed", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    await using context = await model.createContext({ contextSize: 512 });
    const seen: number[][] = [];
    const forward = context.forward.bind(context);
    context.forward = async (inputs, options) => {
      seen.push(inputs[0]?.rows.map((rows) => rows[0] as number) ?? []);
      return forward(inputs, options);
    };
    const joined = { ...current, phonemes: [1, 30, 31, 32, 40, 41, 2] };
    const codes = await generateNarLen(context, joined, {
      sampler: (t) => narLenSampler(resolveSampling(), t),
      rng: createRng(1),
      frames: 4,
      maxSteps: 2,
      prefix: earlier.codes,
    });
    expect(codes).toHaveLength(4);
    expect(codes.every((c) => c >= 0 && c < 1024)).toBe(true);
    const narLen = model.layout.narLen.start;
    for (const rows of seen) {
      expect(rows.slice(0, 7)).toEqual([1, 30, 31, 32, 40, 41, 2]);
      // The response segment starts with the six earlier codes, unmasked, at every step.
      expect(rows.slice(-10, -4)).toEqual(earlier.codes.map((c) => narLen + c));
    }
  });

  it("AR continues from the prefix and returns only new codes; with the KV cache the same as without", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    await using context = await model.createContext({ contextSize: 512, cacheType: "f32" });
    const run = (cache: boolean) =>
      generateAr(
        context,
        { ...current, phonemes: [1, 30, 31, 32, 40, 41, 2] },
        {
          sampler: arSampler(resolveSampling({ arTemperature: 0 })),
          rng: createRng(2),
          maxFrames: 5,
          prefix: earlier.codes,
          cache,
        },
      );
    const cached = await run(true);
    expect(cached.codes.length).toBeLessThanOrEqual(5);
    expect(await run(false)).toEqual(cached);
  });

  it("bad input: a history for ns, a history with beam search, codes out of range", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    await expect(generate(model, { ...current, task: "ns", history: earlier })).rejects.toThrow(
      "A rolling context (history) is for tts, not ns",
    );
    await expect(
      generate(model, { ...current, modality: "ar+nar", sampling: { beamWidth: 2 }, history: earlier }),
    ).rejects.toThrow("AR beam search does not take a rolling context (history)");
    await expect(generate(model, { ...current, history: { phonemes: [1, 2], codes: [1024] } })).rejects.toThrow(
      "Expected codes from 0 to 1023 for history.codes[0], got 1024",
    );
  });
});
