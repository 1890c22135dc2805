import { describe, expect, it } from "vitest";
import { generate } from "../src/inference/generate.js";
import { assembleInput } from "../src/inputs/assemble.js";
import { LanguageModel } from "../src/language-model.js";
import { KNOWN_LAYOUT, type RowRange } from "../src/model/layout.js";
import { tinyModel } from "./tiny.js";

const L = KNOWN_LAYOUT;
const prom = (level: number) => (L.prom[level] as RowRange).start;
const phonemes = [1, 40, 73, 2];
const noisy = Array.from({ length: 8 }, (_, l) => [10 + l, 20 + l, 30 + l]);

describe("ns / sr sequences (TTS.inference's composite prompt [task, noisy codes])", () => {
  for (const [task, id] of [
    ["ns", 2],
    ["sr", 3],
  ] as const) {
    it(`${task}: the prompt segment opens with the task token (row ${270 + id}), then the codes; the rest as tts`, () => {
      const input = assembleInput({
        mode: "nar-len",
        phonemes,
        lang: "de",
        rvqLevel: 0,
        prompt: noisy,
        promptTask: task,
        response: [[1024, 1024, 1024]],
      });
      expect(input.rows).toEqual([
        [1],
        [40],
        [73],
        [2], // phonemes
        [L.sep.start],
        [L.lang.start + 2], // de
        [L.sep.start],
        [L.rvqLevel.start + 0],
        [L.sep.start],
        [L.task.start + id], // the task token, embedded from the task rows
        [prom(0) + 10],
        [prom(0) + 20],
        [prom(0) + 30],
        [L.sep.start],
        [L.narLen.start + 1024],
        [L.narLen.start + 1024],
        [L.narLen.start + 1024],
      ]);
      // Positions restart per segment: the task token is position 0 of the prompt segment.
      expect(input.positions.slice(9, 14)).toEqual([0, 1, 2, 3, 4]);
      expect(input.outputs).toBe(3);
    });
  }

  it("NAR level 3: the task token stays one row; the codes sum levels 0–2", () => {
    const input = assembleInput({
      mode: "nar",
      phonemes,
      lang: "en",
      rvqLevel: 3,
      prompt: noisy,
      promptTask: "sr",
      response: noisy.slice(0, 3),
    });
    const start = phonemes.length + 5; // after the phonemes: sep, lang, sep, rvq, sep
    expect(input.rows[start]).toEqual([L.task.start + 3]);
    expect(input.rows[start + 1]).toEqual([prom(0) + 10, prom(1) + 11, prom(2) + 12]);
  });

  it("the CFG null input has no prompt segment at all, task token included", () => {
    const spec = {
      mode: "nar-len" as const,
      phonemes,
      lang: "en" as const,
      rvqLevel: 0,
      prompt: noisy,
      promptTask: "ns" as const,
      response: [[1024]],
    };
    const withTask = assembleInput(spec, undefined, { cfgNull: true });
    const { promptTask: _, ...tts } = spec;
    const plain = assembleInput(tts, undefined, { cfgNull: true });
    expect(withTask).toEqual(plain);
    expect(withTask.rows.flat()).not.toContain(L.task.start + 2);
  });

  it("a task token needs prompt codes", () => {
    expect(() =>
      assembleInput({ mode: "nar-len", phonemes, lang: "en", rvqLevel: 0, promptTask: "ns", response: [[1024]] }),
    ).toThrow("The ns task token needs prompt codes after it; none were given");
  });
});

describe("generate with ns / sr", () => {
  it("the output has the prompt's length (no len pass) and 8 levels; same seed → same codes", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    const prompt = Array.from({ length: 8 }, (_, l) => Array.from({ length: 20 }, (_, t) => (t * 37 + l * 101) % 1024));
    const stages: string[] = [];
    const options = {
      phonemes: [1, 40, 2],
      lang: "en" as const,
      prompt,
      task: "ns" as const,
      seed: 5,
      sampling: { maxSteps: 4 },
    };
    const a = await generate(model, { ...options, onProgress: (e) => stages.push(e.stage) });
    expect(a.codes).toHaveLength(8);
    expect(a.codes[0]).toHaveLength(20);
    expect(stages).not.toContain("len");
    expect((await generate(model, options)).codes).toEqual(a.codes);
    // sr differs from ns (a different task token in the sequence).
    expect((await generate(model, { ...options, task: "sr" })).codes).not.toEqual(a.codes);
  });

  it("bad input: no prompt for ns, a task the model does not declare, a task generate does not run", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    await expect(generate(model, { phonemes: [1, 40, 2], lang: "en", task: "ns" })).rejects.toThrow(
      "The ns task needs the noisy audio's codes as the prompt; none was given",
    );
    await expect(generate(model, { phonemes: [1, 40, 2], lang: "en", task: "stt" as "tts" })).rejects.toThrow(
      'Expected one of "tts", "ns", "sr" for task, got "stt"',
    );
    await using ttsOnly = await LanguageModel.load(await tinyModel("F32", { metadata: { "vall_e.tasks": ["tts"] } }));
    expect(ttsOnly.tasks).toEqual(["tts"]);
    await expect(
      generate(ttsOnly, { phonemes: [1, 40, 2], lang: "en", task: "sr", prompt: [[1]] }),
    ).rejects.toMatchObject({
      code: "ERR_UNSUPPORTED_TASK",
      message: "This model does not support the sr task (it declares: tts)",
    });
  });
});
