import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { encodeWav } from "@vall-e/codec";
import { liveNativeObjects } from "@vall-e/native";
import { describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import { tinyBundle } from "../../src/models/tiny.js";

const dir = tempDir("vall-e-transcribe-");
const tiny = await tinyBundle(join(dir, "tiny"));
const voice = join(dir, "voice.wav");
writeFileSync(
  voice,
  encodeWav(
    Float32Array.from({ length: 24000 }, (_, i) => 0.3 * Math.sin(i / 9)),
    24000,
  ),
);

describe("engine.transcribe", () => {
  it("spells the tokens with the tokenizer: hand-made sequences, spaces included", async () => {
    await using engine = await Engine.load({ models: tiny, need: ["tokenizer"] });
    const { tokenizer } = engine;
    const id = (phoneme: string) => tokenizer.encode(phoneme)[1] as number; // <bos> phoneme </eos>
    const space = id(" ");
    expect(tokenizer.decode([1, id("h"), id("ə"), space, id("l"), id("o"), 2])).toBe("hə lo");
    expect(tokenizer.decode([1, id("w"), space, space, id("ɜ"), 2])).toBe("w  ɜ");
    expect(tokenizer.decode([1, 2])).toBe("");
  });

  it("audio in (a file, samples, its codes), a PhonemeArtifact out; the same seed repeats; its context is freed", async () => {
    await using engine = await Engine.load({ models: tiny, threads: 2 });
    const first = await engine.transcribe({ audio: voice, seed: 3, maxTokens: 12 });
    expect(first.artifact).toMatchObject({ format: "vall-e.phonemes/1", language: "en", text: "" });
    expect(first.artifact.tokens[0]).toBe(1);
    expect(first.artifact.tokens.at(-1)).toBe(2);
    expect(first.artifact.ipa).toBe(engine.tokenizer.decode(first.artifact.tokens));
    expect(first.frames).toBe(75);
    expect((await engine.transcribe({ audio: voice, seed: 3, maxTokens: 12 })).artifact).toEqual(first.artifact);
    const samples = Float32Array.from({ length: 24000 }, (_, i) => 0.3 * Math.sin(i / 9));
    const fromSamples = await engine.transcribe({ audio: { samples, sampleRate: 24000 }, seed: 3, maxTokens: 12 });
    expect(fromSamples.frames).toBe(75);
    expect(liveNativeObjects().lmContexts).toBe(0);
    await expect(engine.transcribe({ audio: voice, language: "auto" as "en" })).rejects.toThrow(
      'Expected a language (not auto) for stt for language, got "auto"',
    );
    await expect(engine.transcribe({ audio: { samples: new Float32Array(0), sampleRate: 24000 } })).rejects.toThrow(
      "Expected at least one sample for reference.samples",
    );
  });
});
