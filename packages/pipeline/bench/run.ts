/**
 * Pipeline benchmark: `synthesize` end to end on full-shape random models (the LM of the real shape in F16, an
 * EnCodec of the real shape with random f16 weights, the tiny bundle's tokenizer; written once under bench/.cache),
 * two sentences of text, a 3 s voice, default threads: wall time, real-time factor and per-stage seconds (from
 * run.json) for NAR-len and AR+NAR, and the peak RSS. The audio is noise; the cost is the real one.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BenchRow, report } from "@tooling/bench";
import { ENCODEC_24KHZ_HEADER, encodeWav, randomEncodecBytes } from "@vall-e/codec";
import { FULL_SHAPE, writeRandomModel } from "@vall-e/lm";
import { systemInfo } from "@vall-e/native";
import { type RunManifest, synthesize, tinyTokenizerJson } from "../src/index.js";

const cacheDir = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "bench", ".cache");
mkdirSync(cacheDir, { recursive: true });
const threads = systemInfo().defaultThreads;

const lm = join(cacheDir, "vall-e-full-F16.gguf"); // shared with the LM benchmark
if (!existsSync(lm)) {
  process.stderr.write(`writing ${lm} …\n`);
  await writeRandomModel(lm, { ...FULL_SHAPE, type: "F16", seed: 5 });
}
const codec = join(cacheDir, "encodec-random-f16.bin");
if (!existsSync(codec)) writeFileSync(codec, randomEncodecBytes({ seed: 3, half: true, header: ENCODEC_24KHZ_HEADER }));
const tokenizer = join(cacheDir, "tokenizer-tiny.json");
writeFileSync(tokenizer, tinyTokenizerJson());

const work = mkdtempSync(join(tmpdir(), "vall-e-pipeline-bench-"));
const voice = join(work, "voice.wav");
writeFileSync(
  voice,
  encodeWav(
    Float32Array.from(
      { length: 3 * 24000 },
      (_, i) => 0.3 * Math.sin((2 * Math.PI * 150 * i) / 24000) * Math.sin(i / 4000),
    ),
    24000,
  ),
);

const text = "The quick brown fox jumps over the lazy dog. It was a bright cold day in April.";
const rows: BenchRow[] = [];
for (const modality of ["nar-len", "ar+nar"] as const) {
  const artifactsDir = join(work, modality);
  const start = performance.now();
  const result = await synthesize({
    text,
    models: { lm, codec, tokenizer },
    reference: voice,
    language: "en",
    modality,
    seed: 1,
    maxDuration: 2,
    threads,
    artifactsDir,
  });
  const seconds = (performance.now() - start) / 1e3;
  const run = JSON.parse(readFileSync(join(artifactsDir, "run.json"), "utf8")) as RunManifest;
  const audioSeconds = result.audio.length / result.sampleRate;
  rows.push({
    name: `synthesize ${modality} 2 sentences`,
    params: { modality, frames: result.sentences.map((s) => s.frames).join("+"), threads },
    metrics: {
      seconds,
      audioSeconds,
      realTimeFactor: seconds / audioSeconds,
      ...Object.fromEntries(Object.entries(run.timings).map(([stage, s]) => [`${stage}Seconds`, s])),
      peakRssMB: process.resourceUsage().maxRSS / 1024,
    },
  });
}
report("pipeline", rows, { threads, text, maxDuration: 2, promptSeconds: 3 });
