import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { encodeWav, readCodes } from "@vall-e/codec";
import { liveNativeObjects } from "@vall-e/native";
import { beforeAll, describe, expect, it } from "vitest";
import { checksumOf } from "../src/models/hub.js";
import { type TinyBundle, tinyBundle } from "../src/models/tiny.js";
import { replay } from "../src/replay.js";
import { type RunManifest, synthesize, synthesizeStream } from "../src/synthesize.js";

const dir = tempDir("vall-e-resume-");
let tiny: TinyBundle;
const voice = join(dir, "voice.wav");
writeFileSync(
  voice,
  encodeWav(
    Float32Array.from({ length: 12000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 180 * i) / 16000)),
    16000,
  ),
);
const options = () => ({
  models: { lm: tiny.lm, codec: tiny.codec, tokenizer: tiny.tokenizer, vocos: tiny.vocos },
  language: "en" as const,
  sampling: { maxSteps: 3 },
  maxDuration: 0.6,
  promptSeconds: 0.4,
  seed: 11,
  threads: 2,
});

beforeAll(async () => {
  tiny = await tinyBundle(join(dir, "tiny"));
});

describe("resuming from each stage's artifacts, and replaying run.json", () => {
  it("phonemes + prompt codes, response codes, and run.json each give the same wav, sample for sample", async () => {
    const first = join(dir, "first");
    const text = "One sentence here. And a second one.";
    const chunks: number[] = [];
    const original = await synthesize({
      ...options(),
      text,
      reference: voice,
      artifactsDir: first,
      onChunk: (chunk) => {
        chunks.push(chunk.index);
      },
    });
    expect(original.sentences).toHaveLength(2);
    expect(chunks).toEqual([0, 1]); // each sentence handed over as soon as it was decoded
    const run = JSON.parse(readFileSync(join(first, "run.json"), "utf8")) as RunManifest;
    for (const role of ["lm", "codec", "tokenizer"] as const) {
      expect(run.models[role]?.sha256).toBe(await checksumOf(tiny[role], "sha256"));
    }
    expect(run.inputs).toEqual({ text, reference: [voice] });
    expect(run.options).toMatchObject({ seed: 11, task: "tts", promptSeconds: 0.4 });

    const phonemes = ["001.phonemes.json", "002.phonemes.json"].map((f) => join(first, f));
    const fromPhonemes = await synthesize({ ...options(), phonemes, promptCodes: join(first, "prompt.codes.npy") });
    expect(fromPhonemes.audio).toEqual(original.audio);

    const responseCodes = ["001.codes.npy", "002.codes.npy"].map((f) => join(first, f));
    const fromCodes = await synthesize({ ...options(), models: { vocos: tiny.vocos }, responseCodes });
    expect(fromCodes.audio).toEqual(original.audio);
    expect(fromCodes.sentences.map((s) => s.text)).toEqual(["One sentence here.", "And a second one."]);

    const again = join(dir, "again");
    const replayed = await replay(join(first, "run.json"), { artifactsDir: again });
    expect(replayed.audio).toEqual(original.audio);
    expect(readFileSync(join(again, "output.wav"))).toEqual(readFileSync(join(first, "output.wav")));
  });

  it("a replay refuses a model file that changed: the codec of the voice, the Vocos weights", async () => {
    for (const role of ["codec", "vocos"] as const) {
      const copy = join(dir, `changed-${role}`);
      const models = { ...options().models, [role]: join(dir, `${role}-copy.bin`) };
      writeFileSync(models[role], readFileSync(tiny[role]));
      const run = await synthesize({ ...options(), models, text: "Hi.", reference: voice, artifactsDir: copy });
      expect(run.sentences).toHaveLength(1);
      const manifest = JSON.parse(readFileSync(join(copy, "run.json"), "utf8"));
      expect(Object.keys(manifest.models).sort()).toEqual(["codec", "lm", "tokenizer", "vocos"]);
      expect(manifest.options.decoder).toBe("vocos");
      const bytes = readFileSync(models[role]);
      bytes.writeUInt8((bytes.at(-1) as number) ^ 1, bytes.length - 1);
      writeFileSync(models[role], bytes);
      await expect(replay(join(copy, "run.json"))).rejects.toMatchObject({
        code: "ERR_REPLAY",
        message: expect.stringContaining(`${models[role]} is not the ${role} file the run used: its SHA-256 is`),
      });
    }
  });

  it("decoder encodec: EnCodec's own decoder, recorded in run.json and replayed with it", async () => {
    const out = join(dir, "encodec-decoder");
    const { vocos: _vocos, ...models } = options().models;
    const run = await synthesize({ ...options(), models, decoder: "encodec", text: "Hi.", artifactsDir: out });
    const manifest = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(manifest.options.decoder).toBe("encodec");
    expect(Object.keys(manifest.models).sort()).toEqual(["codec", "lm", "tokenizer"]);
    expect((await replay(join(out, "run.json"))).audio).toEqual(run.audio);
    const vocos = await synthesize({ ...options(), text: "Hi." });
    expect(vocos.audio.length).toBe(run.audio.length);
    expect(vocos.audio).not.toEqual(run.audio);
    await expect(synthesize({ ...options(), models, text: "Hi." })).rejects.toThrow(
      "Expected a file path for models.vocos, got nothing",
    );
  });

  it("a malformed run.json is named, not run", async () => {
    const bad = join(dir, "bad-run.json");
    writeFileSync(bad, JSON.stringify({ format: "vall-e.run/1", inputs: { text: "hi" }, options: {}, models: {} }));
    await expect(replay(bad)).rejects.toMatchObject({
      code: "ERR_REPLAY",
      message: `${bad}: "inputs.reference" must be a list of file paths`,
    });
    writeFileSync(
      bad,
      JSON.stringify({ format: "vall-e.run/1", inputs: { reference: [] }, options: {}, models: { lm: { path: 5 } } }),
    );
    await expect(replay(bad)).rejects.toThrow(`${bad}: "models.lm" must hold a "path" and a hex "sha256"`);
    writeFileSync(bad, "{");
    await expect(replay(bad)).rejects.toMatchObject({ code: "ERR_REPLAY" });
    // A file that is not JSON: named, its bytes not echoed.
    writeFileSync(bad, "secret-token-1234 and more");
    const notJson = await replay(bad).catch((e: Error) => e);
    expect(notJson).toMatchObject({ code: "ERR_REPLAY" });
    expect((notJson as Error).message).toMatch(new RegExp(`^${bad} is not JSON`));
    expect((notJson as Error).message).not.toContain("secret");
  });

  it("run.json can make the tool read only model files it names, checked before a byte is hashed", async () => {
    const bad = join(dir, "roles-run.json");
    const sha256 = "0".repeat(64);
    const manifest = (models: object) =>
      JSON.stringify({ format: "vall-e.run/1", inputs: { text: "Hi.", reference: [] }, options: {}, models });
    writeFileSync(bad, manifest({ secrets: { path: "/etc/shadow", sha256 } }));
    await expect(replay(bad)).rejects.toThrow(
      `${bad}: "models.secrets" is not a model role (expected lm, codec, tokenizer, vocos)`,
    );
    // A FIFO (or /dev/zero) as a model file is refused at once instead of hashed forever.
    const fifo = join(dir, "model.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    writeFileSync(bad, manifest({ lm: { path: fifo, sha256 } }));
    await expect(replay(bad)).rejects.toMatchObject({
      code: "ERR_NOT_A_FILE",
      message: `The run's lm file ${fifo} is not a regular file (a FIFO)`,
    });
    // Every recorded setting is checked before a file is read: a run that cannot run reads nothing.
    writeFileSync(
      bad,
      JSON.stringify({
        format: "vall-e.run/1",
        inputs: { text: "Hi.", reference: [] },
        options: { seed: -5 },
        models: { lm: { path: tiny.lm, sha256 } },
      }),
    );
    await expect(replay(bad)).rejects.toMatchObject({
      code: "ERR_REPLAY",
      message: `${bad}: Expected an integer from 0 to 4294967295 for "options.seed", got -5`,
    });
    // The recorded size is compared first.
    writeFileSync(bad, manifest({ vocos: { path: tiny.vocos, sha256, bytes: 12 } }));
    await expect(replay(bad)).rejects.toThrow(
      `${tiny.vocos} is not the vocos file the run used: it has ${statSync(tiny.vocos).size} bytes, the run recorded 12`,
    );
  });

  it("relative paths in run.json are taken relative to its folder: a moved run folder replays", async () => {
    const original = join(dir, "to-move");
    const run = await synthesize({ ...options(), text: "Hi.", reference: voice, artifactsDir: original });
    const moved = join(tempDir("vall-e-moved-"), "run");
    mkdirSync(moved);
    for (const name of readdirSync(original)) copyFileSync(join(original, name), join(moved, name));
    copyFileSync(voice, join(moved, "voice.wav"));
    const manifest = JSON.parse(readFileSync(join(moved, "run.json"), "utf8")) as RunManifest;
    manifest.inputs.reference = ["voice.wav"];
    writeFileSync(join(moved, "run.json"), JSON.stringify(manifest));
    const again = await replay(join(moved, "run.json"));
    expect(again.audio).toEqual(run.audio);
  });

  it("bad combinations are refused before anything is read", async () => {
    await expect(
      synthesize({ ...options(), text: "Hi.", reference: voice, promptCodes: join(dir, "x.npy") }),
    ).rejects.toThrow(
      "Give the voice either as references (reference / --prompt) or as prepared prompt codes (promptCodes / --prompt-codes), not both",
    );
    await expect(synthesize({ ...options(), text: "Hi.", phonemes: ["a.json"] })).rejects.toThrow(
      "Give one of text, phonemes and responseCodes, not text and phonemes",
    );
    await expect(synthesize({ ...options() })).rejects.toThrow("Give the text, its phonemes or the response codes");
    await expect(synthesize({ ...options(), text: "Hi.", task: "ns" })).rejects.toThrow(
      "The ns task needs the noisy audio as the reference (--prompt)",
    );
  });
});

describe("ns / sr through the pipeline", () => {
  it("the noisy audio is the whole prompt; the output is as long as it; the text is not split", async () => {
    const result = await synthesize({
      ...options(),
      text: "First. Second.",
      reference: voice,
      task: "ns",
      maxDuration: 5,
    });
    const noisy = Math.ceil((12000 / 16000) * 75); // 0.75 s at 75 frames/s, not cut to promptSeconds
    expect(result.sentences).toEqual([{ text: "First. Second.", seed: 11, frames: noisy }]);
    expect(result.audio.length).toBe(noisy * 320);
    const silent = await synthesize({ ...options(), text: "", reference: voice, task: "sr", maxDuration: 5 });
    expect(silent.sentences[0]?.frames).toBe(noisy);
  });
});

describe("rolling context", () => {
  it("each sentence continues the previous one: same lengths, the first unchanged, the rest different; replayable", async () => {
    const text = "First one here. Then a second. And a third.";
    const plain = await synthesize({ ...options(), text, reference: voice });
    const out = join(dir, "rolling");
    const rolling = await synthesize({ ...options(), text, reference: voice, contextHistory: 1, artifactsDir: out });
    expect(rolling.sentences.map((s) => s.frames)).toEqual(plain.sentences.map((s) => s.frames));
    const first = (plain.sentences[0]?.frames ?? 0) * 320;
    expect(rolling.audio.subarray(0, first)).toEqual(plain.audio.subarray(0, first));
    expect(rolling.audio).not.toEqual(plain.audio);
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as RunManifest;
    expect(run.options.contextHistory).toBe(1);
    expect((await replay(join(out, "run.json"))).audio).toEqual(rolling.audio);
    await expect(synthesize({ ...options(), text, contextHistory: -1 })).rejects.toThrow(
      "Expected a number of sentences from 0 to 16 for contextHistory, got -1",
    );
  });

  it("gives up its oldest sentences where the model's positions would not hold them (not an error mid-run)", async () => {
    const text = "First one here. Then a second. And a third.";
    // 299 s of room for each response leaves the 22500 positions no space for a second of earlier speech: every
    // sentence is spoken without context, as with contextHistory 0.
    const long = { ...options(), text, reference: voice, maxDuration: 299 };
    const plain = await synthesize(long);
    const rolling = await synthesize({ ...long, contextHistory: 2 });
    expect(rolling.audio).toEqual(plain.audio);
  });
});

describe("long text", () => {
  it("50 sentences stream with bounded memory: one model, one vocoder, at most one LM context alive at any time", async () => {
    const text = Array.from({ length: 50 }, (_, i) => `Sentence number ${i + 1}.`).join(" ");
    const before = liveNativeObjects();
    let maxContexts = 0;
    let chunks = 0;
    let held = 0;
    for await (const chunk of synthesizeStream({
      ...options(),
      text,
      maxDuration: 0.2,
      sampling: { maxSteps: 1 },
      maxLevels: 1,
      onProgress: () => {
        maxContexts = Math.max(maxContexts, liveNativeObjects().lmContexts - before.lmContexts);
      },
    })) {
      chunks++;
      const live = liveNativeObjects();
      expect(live.lmModels - before.lmModels).toBe(1);
      expect(live.vocoders - before.vocoders).toBe(1);
      expect(live.codecs - before.codecs).toBe(0); // no voice to encode
      expect(live.lmContexts - before.lmContexts).toBe(0); // each sentence's context is freed when it is done
      // Each chunk is one sentence's audio (plus the pause), not the text so far.
      expect(chunk.audio.length).toBeLessThanOrEqual(Math.round(0.15 * 24000) + 15 * 320);
      held = chunk.audio.length;
    }
    expect(held).toBeGreaterThan(0);
    expect(chunks).toBe(50);
    expect(maxContexts).toBe(1);
    expect(liveNativeObjects()).toEqual(before);
  });
});

describe("artifacts", () => {
  it("the prompt codes artifact holds the prepared prompt", async () => {
    const out = join(dir, "prompt-only");
    await synthesize({ ...options(), text: "Hi.", reference: voice, artifactsDir: out });
    const prompt = await readCodes(join(out, "prompt.codes.npy"));
    expect([prompt.codebooks, prompt.frames]).toEqual([8, 30]); // ⌊75 · 0.4⌋
  });
});
