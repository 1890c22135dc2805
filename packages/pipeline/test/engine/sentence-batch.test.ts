import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { encodeWav } from "@vall-e/codec";
import { MAX_SENTENCE_BATCH } from "@vall-e/core";
import { liveNativeObjects } from "@vall-e/native";
import { beforeAll, describe, expect, it } from "vitest";
import { Engine, sentenceGroups } from "../../src/engine/engine.js";
import type { PipelineProgress, SpeechRequest } from "../../src/engine/request.js";
import { type TinyBundle, tinyBundle } from "../../src/models/tiny.js";
import { replay } from "../../src/replay.js";
import type { RunManifest } from "../../src/run-manifest.js";

const dir = tempDir("vall-e-sentence-batch-");
let tiny: TinyBundle;
const voice = join(dir, "voice.wav");
writeFileSync(
  voice,
  encodeWav(
    Float32Array.from({ length: 12000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 160 * i) / 16000)),
    16000,
  ),
);
const text = "The first one. A second, longer sentence here. Third. And a fourth one. Five.";
const settings = {
  text,
  reference: voice,
  language: "en" as const,
  sampling: { maxSteps: 3 },
  maxDuration: 0.5,
  promptSeconds: 0.4,
  seed: 21,
} satisfies SpeechRequest;

beforeAll(async () => {
  tiny = await tinyBundle(join(dir, "tiny"));
});

const load = () =>
  Engine.load({
    models: { lm: tiny.lm, codec: tiny.codec, tokenizer: tiny.tokenizer, vocos: tiny.vocos },
    threads: 2,
  });

/** Where each sentence's generation ended and its decode came, in the order of the events. */
function order(events: PipelineProgress[]): string[] {
  return events.filter((e) => e.stage === "len" || e.stage === "decode").map((e) => `${e.stage}:${e.sentence}`);
}

describe("sentences generated together (sentenceBatch)", () => {
  it("gives the audio and codes of one sentence at a time; run.json records the batch, and replay gives it again", async () => {
    await using engine = await load();
    expect(engine.device.spec).toBe("cpu");
    const events: PipelineProgress[] = [];
    const one = await engine.synthesize({
      ...settings,
      artifactsDir: join(dir, "one"),
      onProgress: (e) => events.push(e),
    });
    expect(one.sentences).toHaveLength(5);
    // On the CPU the default is one by one: each sentence is decoded before the next one's len pass.
    expect(order(events).filter((e, i, all) => all.indexOf(e) === i)).toEqual(
      [0, 1, 2, 3, 4].flatMap((i) => [`len:${i}`, `decode:${i}`]),
    );
    for (const modality of ["nar-len", "ar+nar"] as const) {
      const alone = modality === "nar-len" ? one : await engine.synthesize({ ...settings, modality });
      for (const sentenceBatch of [2, 3, MAX_SENTENCE_BATCH]) {
        const batched = await engine.synthesize({ ...settings, modality, sentenceBatch });
        expect(batched.sentences, `${modality}, batch ${sentenceBatch}`).toEqual(alone.sentences);
        expect(batched.audio, `${modality}, batch ${sentenceBatch}`).toEqual(alone.audio);
      }
    }
    const seen: PipelineProgress[] = [];
    let contexts = 0;
    const out = join(dir, "three");
    const three = await engine.synthesize({
      ...settings,
      sentenceBatch: 3,
      artifactsDir: out,
      onProgress: (e) => {
        seen.push(e);
        contexts = Math.max(contexts, liveNativeObjects().lmContexts);
      },
    });
    // Sentences 1–3 are generated together (one context), then decoded; then 4 and 5. A batch's len, NAR-len and
    // NAR steps are one event each for the batch, named by its first sentence.
    expect(order(seen).filter((e, i, all) => all.indexOf(e) === i)).toEqual([
      "len:0",
      "decode:0",
      "decode:1",
      "decode:2",
      "len:3",
      "decode:3",
      "decode:4",
    ]);
    const steps = seen.filter((e) => e.stage === "nar-len" || e.stage === "nar" || e.stage === "len");
    expect(new Set(steps.map((e) => JSON.stringify(e.batch)))).toEqual(
      new Set([JSON.stringify({ first: 0, count: 3 }), JSON.stringify({ first: 3, count: 2 })]),
    );
    const narLen = steps.filter((e) => e.stage === "nar-len").map((e) => `${e.sentence}:${e.step}/${e.total}`);
    expect(narLen).toEqual(["0:1/3", "0:2/3", "0:3/3", "3:1/3", "3:2/3", "3:3/3"]);
    expect(seen.filter((e) => e.stage === "decode").every((e) => e.batch === undefined)).toBe(true);
    expect(contexts).toBe(1);
    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8")) as RunManifest;
    expect(run.options.sentenceBatch).toBe(3);
    expect(readFileSync(join(out, "003.codes.npy"))).toEqual(readFileSync(join(dir, "one", "003.codes.npy")));
    const recorded = JSON.parse(readFileSync(join(dir, "one", "run.json"), "utf8")) as RunManifest;
    expect(recorded.options.sentenceBatch).toBe(1); // the default, resolved for the CPU
    const again = await replay(join(out, "run.json"));
    expect(again.audio).toEqual(three.audio);
    // A run.json from before batching has no sentenceBatch: one by one.
    delete (recorded.options as { sentenceBatch?: number }).sentenceBatch;
    writeFileSync(join(dir, "one", "old.json"), JSON.stringify(recorded));
    expect((await replay(join(dir, "one", "old.json"))).audio).toEqual(one.audio);
  }, 120_000);

  it("a stream still yields every sentence in order, each batch's as soon as it is decoded", async () => {
    await using engine = await load();
    const alone: number[][] = [];
    for await (const chunk of engine.stream(settings)) alone.push([chunk.index, chunk.audio.length]);
    const batched: number[][] = [];
    const stages: string[] = [];
    for await (const chunk of engine.stream({
      ...settings,
      sentenceBatch: 4,
      onProgress: (e) => stages.push(`${e.stage}:${e.sentence}`),
    })) {
      batched.push([chunk.index, chunk.audio.length]);
      // The first chunk comes once the first four sentences are generated, before the fifth's len pass.
      if (chunk.index === 0) expect(stages.includes("len:4")).toBe(false);
    }
    expect(batched).toEqual(alone);
  });

  it("refuses a batch out of its domain, or with a rolling context, before any work", async () => {
    await using engine = await load();
    for (const bad of [-1, 1.5, MAX_SENTENCE_BATCH + 1, "4"]) {
      await expect(engine.synthesize({ ...settings, sentenceBatch: bad as number })).rejects.toThrow(
        `Expected a number of sentences from 0 to ${MAX_SENTENCE_BATCH} for sentenceBatch, got ${JSON.stringify(bad)}`,
      );
    }
    await expect(engine.synthesize({ ...settings, sentenceBatch: 2, contextHistory: 1 })).rejects.toThrow(
      "sentenceBatch 2 and contextHistory 1 do not go together: with a rolling context each sentence continues from the ones before it, so they are generated one by one (sentenceBatch 0 or 1)",
    );
    expect(liveNativeObjects().lmContexts).toBe(0);
    // auto (0) with a rolling context: one by one, as the rolling context needs.
    const rolling = await engine.synthesize({ ...settings, contextHistory: 1, sentenceBatch: 0 });
    expect(rolling.sentences).toHaveLength(5);
  });

  it("groups: batches in order; a stream on a GPU (auto) speaks its first sentence alone, then batches", () => {
    expect(sentenceGroups(5, 1, false)).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
    ]);
    expect(sentenceGroups(5, 3, false)).toEqual([
      [0, 3],
      [3, 2],
    ]);
    expect(sentenceGroups(20, 8, true)).toEqual([
      [0, 1],
      [1, 8],
      [9, 8],
      [17, 3],
    ]);
    expect(sentenceGroups(1, 8, true)).toEqual([[0, 1]]);
    expect(sentenceGroups(3, 1, true)).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
    ]);
  });
});
