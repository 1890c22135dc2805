import { InvalidArgumentError } from "@vall-e/core";
import { describe, expect, it } from "vitest";
import type { Evaluator, EvaluatorSource } from "../src/evaluator.js";
import { forwardEach, type ProgressEvent } from "../src/inference/common.js";
import { type BatchRequest, generate, generateBatch, MAX_BATCH, PositionsError } from "../src/inference/generate.js";
import type { Mode } from "../src/inputs/assemble.js";
import { LanguageModel } from "../src/language-model.js";
import { sampleSpec, seeded, tinyModel } from "./tiny.js";

const random = seeded(7);
const codes = (frames: number) =>
  Array.from({ length: 8 }, () => Array.from({ length: frames }, () => Math.floor(random() * 1024)));
const voice = codes(12);
const short = { maxDuration: 1, sampling: { maxSteps: 4 } };

/** Requests unlike each other in every way a batch must keep apart. */
const mixed: BatchRequest[] = [
  { phonemes: [1, 40, 73, 20, 55, 2], lang: "en", prompt: voice, seed: 1, ...short },
  { phonemes: [1, 90, 12, 2], lang: "de", prompt: codes(7), seed: 2, ...short, maxLevels: 3 },
  { phonemes: [1, 33, 34, 35, 36, 37, 38, 2], lang: "en", seed: 3, ...short, sampling: { maxSteps: 2 } },
  {
    phonemes: [1, 40, 41, 2],
    lang: "en",
    prompt: voice,
    seed: 4,
    ...short,
    history: { phonemes: [1, 30, 31, 2], codes: [5, 600, 7] },
  },
  { phonemes: [1, 50, 51, 2], lang: "en", prompt: voice, seed: 5, modality: "ar+nar", maxDuration: 0.2 },
  {
    phonemes: [1, 2],
    lang: "en",
    prompt: codes(9),
    seed: 6,
    task: "ns",
    ...short,
    sampling: { maxSteps: 3, cfgStrength: 1.5 },
  },
];

/** The model, counting the evaluations of every context it makes (and how many sequences each held). */
function counting(model: LanguageModel): { source: EvaluatorSource; batches: number[] } {
  const batches: number[] = [];
  const source: EvaluatorSource = {
    createContext: async (options) => {
      const context: Evaluator = await model.createContext(options);
      const forward = context.forward.bind(context);
      context.forward = (inputs, evaluate) => {
        batches.push(inputs.length);
        return forward(inputs, evaluate);
      };
      return context;
    },
  };
  return { source, batches };
}

describe("generateBatch: several generations evaluated together", () => {
  it("gives every request exactly what generate() gives it alone, with the same progress events", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    const alone: { codes: number[][]; events: ProgressEvent[] }[] = [];
    for (const request of mixed) {
      const events: ProgressEvent[] = [];
      const result = await generate(model, { ...request, onProgress: (e) => events.push(e) });
      alone.push({ codes: result.codes, events });
      expect(result.codes).toHaveLength(request.maxLevels === undefined ? 8 : request.maxLevels + 1);
    }
    const events: ProgressEvent[][] = mixed.map(() => []);
    const together = await generateBatch(model, mixed, {
      threads: 2,
      onProgress: (index, event) => events[index]?.push(event),
    });
    expect(together.map((r) => r.codes)).toEqual(alone.map((r) => r.codes));
    expect(events).toEqual(alone.map((r) => r.events));
    for (const [i, request] of mixed.entries()) {
      expect(together[i]?.seed).toBe(request.seed);
      expect(together[i]?.modality).toBe(request.modality ?? "nar-len");
    }
    expect(together[4]?.stopped).toBeTypeOf("boolean");
    expect(together[0]?.predictedFrames).toBeTypeOf("number");
    expect(model.contextCount).toBe(0);
  });

  it("one batched evaluation per len digit, demasking step and NAR level, instead of one per request", async () => {
    await using model = await LanguageModel.load(await tinyModel("F16"));
    const requests = mixed.slice(0, 3).map((r) => ({ ...r, sampling: { maxSteps: 4 } }));
    const sequential = counting(model);
    const alone = [];
    for (const request of requests) alone.push(await generate(sequential.source, request));
    const batched = counting(model);
    const together = await generateBatch(batched.source, requests);
    expect(together.map((r) => r.codes)).toEqual(alone.map((r) => r.codes));
    // Alone, each request takes its len digits, 4 demasking steps (a CFG pair) and its NAR levels (7, 3 and 7).
    expect(sequential.batches.every((n) => n <= 2)).toBe(true);
    const digits = sequential.batches.length - 3 * 4 - (7 + 3 + 7);
    // Together: one evaluation per digit of the longest len pass (each request's digits while it has not stopped),
    // one per step for the three pairs, one per level for those not yet at their top level.
    const len = batched.batches.slice(0, -11);
    expect(batched.batches.slice(-11)).toEqual([6, 6, 6, 6, 3, 3, 3, 2, 2, 2, 2]);
    expect(len[0]).toBe(3);
    expect(len.every((n, i) => i === 0 || n <= (len[i - 1] as number))).toBe(true);
    expect(len.reduce((a, b) => a + b, 0)).toBe(digits);
    expect(batched.batches.length).toBeLessThan(sequential.batches.length / 2);
  });

  it("checks every request before evaluating, naming the one at fault", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    await expect(generateBatch(model, [])).rejects.toThrow(
      new InvalidArgumentError(`Expected from 1 to ${MAX_BATCH} requests for requests, got 0`),
    );
    const many = Array.from({ length: MAX_BATCH + 1 }, () => mixed[0] as BatchRequest);
    await expect(generateBatch(model, many)).rejects.toThrow(
      `Expected from 1 to ${MAX_BATCH} requests for requests, got ${MAX_BATCH + 1}`,
    );
    const bad = [mixed[0], { ...mixed[1], phonemes: [1, 5000, 2] }, mixed[2]] as BatchRequest[];
    const refused = generateBatch(model, bad);
    await expect(refused).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(generateBatch(model, bad)).rejects.toThrow(
      "Request 2 of 3: Expected phoneme ids from 0 to 255 for phonemes[1], got 5000",
    );
    const long = { ...mixed[0], phonemes: [1, ...new Array(23_000).fill(5), 2] } as BatchRequest;
    const labelled = generateBatch(model, [mixed[0] as BatchRequest, long], { label: (i) => `Sentence ${i + 5} of 9` });
    await expect(labelled).rejects.toBeInstanceOf(PositionsError);
    await expect(
      generateBatch(model, [mixed[0] as BatchRequest, long], { label: (i) => `Sentence ${i + 5} of 9` }),
    ).rejects.toThrow(/^Sentence 6 of 9: The input takes 23014 positions/);
    await expect(generateBatch(model, [{ ...mixed[2], task: "sr" } as BatchRequest])).rejects.toThrow(
      "Request 1 of 1: The sr task needs the noisy audio's codes as the prompt; none was given",
    );
    expect(model.contextCount).toBe(0);
  });

  it("an abort stops the whole batch between evaluations and frees its contexts", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    const controller = new AbortController();
    const seen: string[] = [];
    const run = generateBatch(model, mixed, {
      signal: controller.signal,
      onProgress: (index, event) => {
        seen.push(`${index}:${event.stage}:${event.step}`);
        if (event.stage === "nar-len" && event.step === 2) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: "ERR_CANCELLED" });
    expect(seen.filter((s) => s.includes("nar-len:3"))).toEqual([]);
    expect(model.contextCount).toBe(0);
  });
});

describe("forwardEach", () => {
  it("evaluates inputs of several heads, more than one evaluation holds, each as it is alone", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    await using context = await model.createContext({ contextSize: 8192 });
    const inputs = Array.from({ length: 70 }, (_, i) =>
      context.assemble(
        sampleSpec((["nar", "nar-len", "len"] as const)[i % 3] as Mode, i + 1, 3 + (i % 5), 4 + (i % 7)),
      ),
    );
    const together = await forwardEach(context, inputs, {});
    for (const [i, input] of inputs.entries()) {
      const alone = await context.forward([input]);
      expect(together[i], `input ${i}`).toEqual(alone);
    }
  });

  it("every row is the same whatever shares the evaluation: F16, BF16 and Q8_0 weights, bit for bit", async () => {
    for (const type of ["F16", "BF16", "Q8_0"] as const) {
      await using model = await LanguageModel.load(await tinyModel(type));
      await using context = await model.createContext({ contextSize: 4096 });
      // Sequences of different lengths after one another: their rows fall at every offset of a group of four.
      const inputs = Array.from({ length: 9 }, (_, i) => context.assemble(sampleSpec("nar-len", i + 1, 1 + i, 1)));
      const together = await forwardEach(context, inputs, {});
      for (const [i, input] of inputs.entries()) {
        expect(together[i], `${type}, input ${i}`).toEqual(await context.forward([input]));
      }
    }
  });
});
