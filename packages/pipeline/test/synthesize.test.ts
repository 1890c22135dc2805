import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { encodeWav, parseWav, readCodes } from "@vall-e/codec";
import { describe, expect, it } from "vitest";
import { tinyBundle } from "../src/models/tiny.js";
import { type PipelineProgress, synthesize, synthesizeStream } from "../src/synthesize.js";

// The tiny bundle the project generates itself (its LM's vocabulary doubles as the tokenizer, as a GGUF can).
const tiny = await tinyBundle(tempDir("vall-e-pipeline-tiny-"));

describe("synthesize on the tiny models", () => {
  const dir = tempDir("vall-e-pipeline-");
  const voice = join(dir, "voice.wav");
  writeFileSync(
    voice,
    encodeWav(
      Float32Array.from({ length: 16000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / 16000)),
      16000,
    ),
  );
  const models = { lm: tiny.lm, codec: tiny.codec, tokenizer: tiny.lm, vocos: tiny.vocos };
  const base = {
    text: "Hello there. How are you?",
    models,
    reference: voice,
    language: "en" as const,
    sampling: { maxSteps: 4 },
    maxDuration: 1.2,
    promptSeconds: 0.5,
    threads: 2,
  };

  it("one utterance per sentence joined by a pause; artifacts and run.json; the same seed gives the same audio", async () => {
    const events: PipelineProgress[] = [];
    const artifactsDir = join(dir, "run");
    const result = await synthesize({ ...base, seed: 5, artifactsDir, onProgress: (e) => events.push(e) });
    expect(result.sentences.map((s) => [s.text, s.seed])).toEqual([
      ["Hello there.", 5],
      ["How are you?", 6],
    ]);
    const frames = result.sentences.reduce((n, s) => n + s.frames, 0);
    expect(result.audio.length).toBe(frames * 320 + Math.round(0.15 * 24000));
    expect(new Set(events.map((e) => e.stage))).toEqual(
      new Set(["phonemize", "prompt", "len", "nar-len", "nar", "decode"]),
    );
    expect(result.artifacts).toEqual([
      "prompt.codes.npy",
      "prompt.codes.npy.json",
      "001.phonemes.json",
      "001.codes.npy",
      "001.codes.npy.json",
      "002.phonemes.json",
      "002.codes.npy",
      "002.codes.npy.json",
      "output.wav",
      "run.json",
    ]);
    const prompt = await readCodes(join(artifactsDir, "prompt.codes.npy"));
    expect([prompt.codebooks, prompt.frames]).toEqual([8, 37]); // ⌊75 · 0.5⌋
    const wav = parseWav(readFileSync(join(artifactsDir, "output.wav")));
    expect(wav.sampleRate).toBe(24000);
    const run = JSON.parse(readFileSync(join(artifactsDir, "run.json"), "utf8"));
    expect(run.options.seed).toBe(5);
    expect(Object.keys(run.timings).sort()).toEqual(["checksums", "decode", "generate", "phonemize", "prompt"]);

    const again = await synthesize({ ...base, seed: 5 });
    expect(again.audio).toEqual(result.audio);
    // the prompt codes artifact stands in for the WAV
    const fromCodes = await synthesize({ ...base, seed: 5, reference: join(artifactsDir, "prompt.codes.npy") });
    expect(fromCodes.audio).toEqual(result.audio);

    // streamed: one chunk per sentence, as each is ready; together they are synthesize's audio
    const chunks = [];
    for await (const chunk of synthesizeStream({ ...base, seed: 5 })) chunks.push(chunk);
    expect(chunks.map((c) => [c.index, c.text, c.seed])).toEqual([
      [0, "Hello there.", 5],
      [1, "How are you?", 6],
    ]);
    const joined = new Float32Array(chunks.reduce((n, c) => n + c.audio.length, 0));
    let offset = 0;
    for (const c of chunks) {
      joined.set(c.audio, offset);
      offset += c.audio.length;
    }
    expect(joined).toEqual(result.audio);
    // stopping early ends the run (its models are freed by the generator's return)
    for await (const chunk of synthesizeStream({ ...base, seed: 5 })) {
      expect(chunk.index).toBe(0);
      break;
    }
  });

  it("bad input fails before any model runs", async () => {
    await expect(synthesize({ ...base, text: "" })).rejects.toThrow(
      'Expected text with something to say for text, got ""',
    );
    await expect(synthesize({ ...base, models: { ...models, lm: "" } })).rejects.toThrow(
      'Expected a file path for models.lm, got ""',
    );
    await expect(synthesize({ ...base, sentencePause: -1 })).rejects.toThrow(
      "Expected seconds from 0 to 10 for sentencePause, got -1",
    );
  });
});
