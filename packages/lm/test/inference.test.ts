import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { generateAr } from "../src/inference/ar.js";
import type { ProgressEvent } from "../src/inference/common.js";
import { generate } from "../src/inference/generate.js";
import { predictLength } from "../src/inference/len.js";
import { generateNarLen } from "../src/inference/nar-len.js";
import { LanguageModel } from "../src/language-model.js";
import { arSampler, narLenSampler, resolveSampling } from "../src/sampling/options.js";
import { createRng } from "../src/sampling/rng.js";
import { argmax } from "../src/sampling/samplers.js";
import { decodeLength, durationFrames } from "../src/sampling/schedule.js";
import { tinyModel } from "./tiny.js";

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}
const random = seeded(99);
const prompt = Array.from({ length: 8 }, () => Array.from({ length: 12 }, () => Math.floor(random() * 1024)));
const conditioning = { phonemes: [1, 40, 73, 20, 55, 2], lang: "en" as const, prompt };

async function tinyContext(threads = 2) {
  const model = await LanguageModel.load(await tinyModel("F32"));
  const context = await model.createContext({ contextSize: 512, threads, cacheType: "f32" });
  return { model, context };
}

describe("procedures on a tiny random model", () => {
  it("len: greedy digits until 10, read in base 10, floored, padded and clamped", async () => {
    const { model, context } = await tinyContext();
    const events: ProgressEvent[] = [];
    const result = await predictLength(
      context,
      conditioning,
      { maxFrames: 900 },
      { onProgress: (e) => events.push(e) },
    );
    // the same loop by hand
    const digits = [0];
    for (let i = 0; i < 10; i++) {
      const logits = await context.evaluate({ ...conditioning, mode: "len", rvqLevel: 0, len: digits });
      digits.push(Math.min(argmax(logits), 10));
      if (digits.at(-1) === 10) break;
    }
    expect(result.digits).toEqual(digits);
    expect(result.predicted).toBe(decodeLength(digits));
    expect(result.frames).toBe(durationFrames(result.predicted, { maxFrames: 900 }));
    expect(events.map((e) => e.step)).toEqual(digits.slice(1).map((_, i) => i + 1));
    await context.dispose();
    await model.dispose();
  });

  it("AR with the KV cache equals AR without it (greedy and seeded sampling)", async () => {
    const { model, context } = await tinyContext();
    for (const temperature of [0, 1]) {
      const sampler = arSampler(resolveSampling({ arTemperature: temperature }));
      const cached = await generateAr(context, conditioning, { sampler, rng: createRng(5), maxFrames: 24 });
      const plain = await generateAr(context, conditioning, {
        sampler,
        rng: createRng(5),
        maxFrames: 24,
        cache: false,
      });
      expect(cached).toEqual(plain);
      expect(cached.stopped || cached.codes.length === 24).toBe(true);
      expect(cached.codes.every((c) => c >= 0 && c < 1024)).toBe(true);
    }
    await context.dispose();
    await model.dispose();
  });

  it("NAR-len fills every position with a code, one event per step; the same seed gives the same codes", async () => {
    const { model, context } = await tinyContext();
    const run = async (seed: number, events: ProgressEvent[] = []) =>
      generateNarLen(context, conditioning, {
        sampler: (t) => narLenSampler(resolveSampling(), t),
        rng: createRng(seed),
        frames: 30,
        maxSteps: 8,
        onProgress: (e) => events.push(e),
      });
    const events: ProgressEvent[] = [];
    const codes = await run(11, events);
    expect(codes).toHaveLength(30);
    expect(codes.every((c) => Number.isInteger(c) && c >= 0 && c < 1024)).toBe(true);
    expect(events).toHaveLength(8);
    expect(events.at(-1)).toEqual({ stage: "nar-len", step: 8, total: 8 });
    expect(await run(11)).toEqual(codes);
    expect(await run(12)).not.toEqual(codes);
    await context.dispose();
    await model.dispose();
  });
});

describe("generate", () => {
  const options = { ...conditioning, maxDuration: 1.2, sampling: { maxSteps: 6 } };

  it("nar-len and ar+nar give 8 levels × frames; same seed → same codes, across 1 and 2 threads", async () => {
    const one = await tinyContext(1);
    const two = await tinyContext(2);
    for (const modality of ["nar-len", "ar+nar"] as const) {
      const a = await generate(one.context, { ...options, modality, seed: 1234 });
      const b = await generate(two.context, { ...options, modality, seed: 1234 });
      expect(a.codes).toHaveLength(8);
      const frames = a.codes[0]?.length ?? 0;
      expect(frames).toBeGreaterThan(0);
      expect(frames).toBeLessThanOrEqual(90);
      expect(a.codes.every((level) => level.length === frames && level.every((c) => c >= 0 && c < 1024))).toBe(true);
      expect(b).toEqual(a);
      expect(a.seed).toBe(1234);
      if (modality === "nar-len") expect(a.predictedFrames).toBeGreaterThanOrEqual(0);
    }
    // without a seed one is drawn and reported; that seed repeats the run
    const drawn = await generate(two.context, { ...options, sampling: { maxSteps: 4 } });
    const again = await generate(two.context, { ...options, sampling: { maxSteps: 4 }, seed: drawn.seed });
    expect(again.codes).toEqual(drawn.codes);
    for (const c of [one, two]) {
      await c.context.dispose();
      await c.model.dispose();
    }
  });

  it("an abort during NAR-len stops between evaluations with a CancelledError; the context stays usable", async () => {
    const { model, context } = await tinyContext();
    const controller = new AbortController();
    const stages: string[] = [];
    const run = generate(context, {
      ...options,
      seed: 1,
      signal: controller.signal,
      onProgress: (e) => {
        stages.push(`${e.stage}:${e.step}`);
        if (e.stage === "nar-len" && e.step === 2) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: "CancelledError", code: "ERR_CANCELLED" });
    expect(stages.at(-1)).toBe("nar-len:2");
    const after = await generate(context, { ...options, seed: 1 });
    expect(after.codes).toHaveLength(8);
    await context.dispose();
    await model.dispose();
  });

  it("bad input: exact messages before any evaluation", async () => {
    const { model, context } = await tinyContext();
    await expect(generate(context, { ...options, phonemes: [] })).rejects.toThrow(
      "Expected phoneme ids including <bos> and </eos> for phonemes, got an array of length 0",
    );
    await expect(generate(context, { ...options, prompt: prompt.slice(0, 4) })).rejects.toThrow(
      'Expected a prompt of 8 codebooks (levels × frames) for prompt, got "4 codebooks"',
    );
    const outOfRange = prompt.map((level, l) => (l === 7 ? [...level.slice(0, -1), 1024] : level));
    const events: ProgressEvent[] = [];
    const onProgress = (e: ProgressEvent) => events.push(e);
    await expect(generate(context, { ...options, prompt: outOfRange, onProgress })).rejects.toThrow(
      "Expected codes from 0 to 1023 for prompt[7][11], got 1024",
    );
    expect(events).toEqual([]); // rejected before the first evaluation
    await expect(generate(context, { ...options, modality: "ar" as never })).rejects.toThrow(
      'Expected one of "nar-len", "ar+nar" for modality, got "ar"',
    );
    await expect(generate(context, { ...options, task: "stt" as never })).rejects.toThrow(
      'Expected one of "tts", "ns", "sr" for task, got "stt"',
    );
    await expect(generate(context, { ...options, sampling: { arTemperature: -0.5 } })).rejects.toThrow(
      "Expected a number ≥ 0 for sampling.arTemperature, got -0.5",
    );
    await expect(generate(context, { ...options, sampling: { topP: 2 } })).rejects.toThrow(
      "Expected a number in (0, 1] for sampling.topP, got 2",
    );
    await context.dispose();
    await model.dispose();
  });
});

describe("AR beam search", () => {
  it("width 1 is greedy decoding; a wider beam returns its best hypothesis, deterministically", async () => {
    const { generateArBeam } = await import("../src/inference/beam.js");
    const { model, context } = await tinyContext();
    const sampler = arSampler(resolveSampling({ arTemperature: 0 }));
    const greedy = await generateAr(context, conditioning, { sampler, rng: createRng(1), maxFrames: 12, cache: false });
    const one = await generateArBeam(context, conditioning, { sampler, width: 1, maxFrames: 12 });
    expect({ codes: one.codes, stopped: one.stopped }).toEqual(greedy);
    const wide = await generateArBeam(context, conditioning, { sampler, width: 3, maxFrames: 12 });
    expect(await generateArBeam(context, conditioning, { sampler, width: 3, maxFrames: 12 })).toEqual(wide);
    // Its score is the sum of the processed logits along its path (re-evaluated step by step here).
    let score = 0;
    for (let i = 0; i <= wide.codes.length; i++) {
      if (i === wide.codes.length && !wide.stopped) break;
      const logits = await context.evaluate({
        ...conditioning,
        prompt: prompt.slice(0, 1),
        mode: "ar",
        rvqLevel: 0,
        response: [wide.codes.slice(0, i)],
      });
      score += logits[i === wide.codes.length ? 1024 : (wide.codes[i] as number)] as number;
    }
    expect(wide.score).toBeCloseTo(score, 3);
    expect(wide.score).toBeGreaterThanOrEqual(one.score - 1e-6);
    await context.dispose();
    await model.dispose();
  });

  it("with a KV cache per hypothesis it finds what re-evaluating every hypothesis finds; extra contexts are freed", async () => {
    const { generateArBeam } = await import("../src/inference/beam.js");
    const { model, context } = await tinyContext();
    const sampler = arSampler(resolveSampling({ arTemperature: 0, repetitionPenalty: 1.2 }));
    const { LanguageModelContext } = await import("../src/language-model.js");
    const copy = LanguageModelContext.prototype.copyCacheFrom;
    let copies = 0;
    LanguageModelContext.prototype.copyCacheFrom = function (source) {
      copies++;
      return copy.call(this, source);
    };
    for (const width of [2, 4]) {
      const options = { sampler, width, maxFrames: 14 };
      const recomputed = await generateArBeam(context, conditioning, { ...options, cache: false });
      const cached = await generateArBeam(context, conditioning, options);
      expect(cached.codes, `width ${width}`).toEqual(recomputed.codes);
      expect(cached.stopped).toBe(recomputed.stopped);
      expect(cached.score).toBeCloseTo(recomputed.score, 3);
      expect(model.contextCount).toBe(1); // the hypotheses' own contexts are gone
    }
    LanguageModelContext.prototype.copyCacheFrom = copy;
    expect(copies).toBeGreaterThan(0); // hypotheses branched from one another
    await context.dispose();
    await model.dispose();
  });

  it("copyCacheFrom: a copied cache continues exactly as the original", async () => {
    const { model, context } = await tinyContext();
    await using other = await model.createContext(context.options);
    // Before anything is cached (no cache is allocated yet on either side), a copy copies nothing.
    await other.copyCacheFrom(context);
    expect(other.cacheLength).toBe(0);
    const input = model.assemble({
      ...conditioning,
      prompt: prompt.slice(0, 1),
      mode: "ar",
      rvqLevel: 0,
      response: [[]],
    });
    await context.prefill(input);
    await other.copyCacheFrom(context);
    expect(other.cacheLength).toBe(context.cacheLength);
    const row = [model.layout.ar.start + 17];
    const position = (input.positions.at(-1) as number) + 1;
    expect(await other.step(row, position)).toEqual(await context.step(row, position));
    await using small = await model.createContext({ ...context.options, contextSize: 4 });
    await expect(small.copyCacheFrom(context)).rejects.toMatchObject({ code: "ERR_CONTEXT_OVERFLOW" });
    await using f16 = await model.createContext({ ...context.options, cacheType: "f16" });
    await expect(f16.copyCacheFrom(context)).rejects.toThrow(
      "Cannot copy a cache between contexts of different cache types",
    );
    await using otherModel = await LanguageModel.load(await tinyModel("F32"));
    await using foreign = await otherModel.createContext(context.options);
    await expect(foreign.copyCacheFrom(context)).rejects.toThrow(
      'Expected a context of the same model for source, got "another model\'s context"',
    );
    await context.dispose();
    await model.dispose();
  });
});

describe("AR stop handling", () => {
  it("the stop token ends the sequence (not part of the codes); none before maxFrames reports stopped: false", async () => {
    const { randomModel } = await import("../src/model/random-model.js");
    const { writeGguf } = await import("../src/model/gguf-writer.js");
    const { KNOWN_LAYOUT } = await import("../src/model/layout.js");
    const { join } = await import("node:path");
    // A model whose AR head favours the stop row by +1000 (through the per-head output bias).
    const parts = await randomModel({ width: 32, layers: 1, heads: 4, ffn: 64, seed: 9, headBiases: true });
    const bias = parts.tensors.find((t) => t.name === "vall_e.output_bias");
    if (!bias) throw new Error("no bias tensor");
    const values = new Float32Array(17702);
    values[KNOWN_LAYOUT.ar.start + 1024] = 1000;
    bias.data = new Uint8Array(values.buffer);
    const path = join(tempDir("vall-e-stop-"), "stop.gguf");
    writeGguf(path, parts.metadata, parts.tensors);

    await using model = await LanguageModel.load(path);
    await using context = await model.createContext({ contextSize: 256 });
    const sampler = arSampler(resolveSampling());
    expect(await generateAr(context, conditioning, { sampler, rng: createRng(1), maxFrames: 10 })).toEqual({
      codes: [],
      stopped: true,
    });
    await expect(generate(context, { ...conditioning, modality: "ar+nar", seed: 1 })).rejects.toThrow(
      "Expected at least one frame before the stop token for the AR output, got 0",
    );
    await using plain = await LanguageModel.load(path, { profile: { headBiases: "ignore" } });
    await using plainContext = await plain.createContext({ contextSize: 256 });
    const open = await generateAr(plainContext, conditioning, {
      sampler: arSampler(resolveSampling({ arTemperature: 0 })),
      rng: createRng(1),
      maxFrames: 5,
    });
    expect(open.codes.length === 5 ? !open.stopped : open.stopped).toBe(true);
  });
});

describe("LanguageModel.generate", () => {
  it("runs on a context of its own, freed when the run completes or is aborted", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    const options = { ...conditioning, maxDuration: 1.2, sampling: { maxSteps: 4 }, seed: 3, threads: 2 };
    const result = await generate(model, options);
    expect(result.codes).toHaveLength(8);
    expect(model.contextCount).toBe(0);
    const controller = new AbortController();
    const run = generate(model, {
      ...options,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.stage === "nar-len") controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: "ERR_CANCELLED" });
    expect(model.contextCount).toBe(0);
    // the same request on a caller's context gives the same codes
    await using context = await model.createContext({ contextSize: 512 });
    expect((await generate(context, options)).codes).toEqual(result.codes);
  });
});
