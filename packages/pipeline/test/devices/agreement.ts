/**
 * Run in a child process by devices.test.ts, with VALL_E_NATIVE_PATH set to a build with a GPU backend: the same
 * request with the same seed on an Engine on the CPU and one on `device` (the tiny random bundle), for each
 * modality — AR+NAR with two sentences, which the device's Engine generates together (sentenceBatch 2), and once
 * more there with sentenceBatch auto (one by one on a software device). Prints one JSON line: per modality, the
 * codes' shapes on both, the fraction of equal codes (in all, and per sentence), the sentence batch each run
 * recorded, and whether the device's batch gave its one-by-one codes.
 *
 *   tsx agreement.ts <scratch dir> <device> [nar-len|ar+nar]
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type CodesArtifact, readCodes } from "@vall-e/codec";
import { Engine } from "../../src/engine/engine.js";
import { tinyBundle } from "../../src/models/tiny.js";

const [dir, device, only] = process.argv.slice(2) as [string, string, string?];

export interface GenerateAgreement {
  device: string;
  runs: {
    modality: string;
    shapes: [number, number][];
    equal: number;
    sentencesEqual: number[];
    firstFrameEqual: boolean;
    sentenceBatch: number[];
    /** AR+NAR: the device's codes with its sentences one by one (auto) are those of its batch of 2. */
    batchGivesOneByOne?: boolean;
  }[];
}

const tiny = await tinyBundle(join(dir, "tiny"));
const models = { lm: tiny.lm, codec: tiny.codec, tokenizer: tiny.tokenizer, vocos: tiny.vocos };
const engines = [await Engine.load({ models, device: "cpu" }), await Engine.load({ models, device })] as const;

/** Speak the modality's text; every sentence's codes and the batch run.json records. */
async function speak(engine: Engine, modality: "nar-len" | "ar+nar", name: string, sentenceBatch?: number) {
  const artifactsDir = join(dir, name);
  await engine.synthesize({
    text: modality === "ar+nar" ? "Hello there. Good bye, friend." : "Hello there.",
    language: "en",
    modality,
    seed: 7,
    maxDuration: 1,
    sampling: { maxSteps: 8 },
    artifactsDir,
    ...(sentenceBatch === undefined ? {} : { sentenceBatch }),
  });
  const files = readdirSync(artifactsDir)
    .filter((file) => /^\d+\.codes\.npy$/.test(file))
    .sort();
  const sentences = await Promise.all(files.map((file) => readCodes(join(artifactsDir, file))));
  const run = JSON.parse(readFileSync(join(artifactsDir, "run.json"), "utf8"));
  return { sentences, sentenceBatch: run.options.sentenceBatch as number };
}

const equalFraction = (a: CodesArtifact, b: CodesArtifact) => {
  let equal = 0;
  const n = Math.min(a.codes.length, b.codes.length);
  for (let i = 0; i < n; i++) if (a.codes[i] === b.codes[i]) equal++;
  return { equal, of: Math.max(a.codes.length, b.codes.length) };
};

const result: GenerateAgreement = { device: engines[1].device.spec, runs: [] };
for (const modality of (["nar-len", "ar+nar"] as const).filter((m) => only === undefined || m === only)) {
  const cpu = await speak(engines[0], modality, `${modality}-cpu`);
  const gpu = await speak(engines[1], modality, `${modality}-device`, modality === "ar+nar" ? 2 : undefined);
  const pairs = cpu.sentences.map((a, i) => equalFraction(a, gpu.sentences[i] as CodesArtifact));
  const [a, b] = [cpu.sentences[0], gpu.sentences[0]] as [CodesArtifact, CodesArtifact];
  let firstFrameEqual = true;
  for (let level = 0; level < Math.min(a.codebooks, b.codebooks); level++) {
    firstFrameEqual &&= a.codes[level * a.frames] === b.codes[level * b.frames];
  }
  const frames = (list: CodesArtifact[]) => list.reduce((n, s) => n + s.frames, 0);
  let batchGivesOneByOne: boolean | undefined;
  const batches = [cpu.sentenceBatch, gpu.sentenceBatch];
  if (modality === "ar+nar") {
    const oneByOne = await speak(engines[1], modality, `${modality}-device-auto`);
    batches.push(oneByOne.sentenceBatch);
    batchGivesOneByOne = oneByOne.sentences.every((s, i) => {
      const { equal, of } = equalFraction(s, gpu.sentences[i] as CodesArtifact);
      return equal === of && s.frames === gpu.sentences[i]?.frames;
    });
  }
  result.runs.push({
    modality,
    shapes: [
      [a.codebooks, frames(cpu.sentences)],
      [b.codebooks, frames(gpu.sentences)],
    ],
    equal: pairs.reduce((n, p) => n + p.equal, 0) / pairs.reduce((n, p) => n + p.of, 0),
    sentencesEqual: pairs.map((p) => p.equal / p.of),
    firstFrameEqual,
    sentenceBatch: batches,
    ...(batchGivesOneByOne === undefined ? {} : { batchGivesOneByOne }),
  });
}
for (const engine of engines) await engine.dispose();
process.stdout.write(`${JSON.stringify(result)}\n`);
