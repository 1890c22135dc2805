/**
 * Pipeline benchmark, on full-shape random models (the LM of the real shape in F16, an EnCodec of the real shape with
 * random f16 weights, the tiny bundle's tokenizer; written once under bench/.cache) — the audio is noise, the cost is
 * the real one:
 *   - `synthesize` end to end: two sentences, a 3 s voice, default threads: wall time, real-time factor and per-stage
 *     seconds (from run.json) for NAR-len and AR+NAR, and the peak RSS;
 *   - the Engine: load time against a warm engine's first and second request (AR+NAR, one sentence);
 *   - 4 concurrent requests against the same 4 one after another on one engine (tiny bundle), wall time.
 * `tsx bench/run.ts engine` runs the Engine rows only.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BenchRow, report } from "@tooling/bench";
import { ENCODEC_24KHZ_HEADER, encodeWav, randomEncodecBytes } from "@vall-e/codec";
import { FULL_SHAPE, writeRandomModel } from "@vall-e/lm";
import { systemInfo } from "@vall-e/native";
import { Engine, type RunManifest, synthesize, tinyBundle, tinyTokenizerJson } from "../src/index.js";

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
const only = process.argv[2];
for (const modality of only === "engine" ? [] : (["nar-len", "ar+nar"] as const)) {
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
// The Engine: loading once, then requests on warm models.
{
  const start = performance.now();
  const engine = await Engine.load({ models: { lm, codec, tokenizer }, threads });
  const loadSeconds = (performance.now() - start) / 1e3;
  const request = {
    text: "The quick brown fox jumps over the lazy dog.",
    reference: voice,
    language: "en" as const,
    modality: "ar+nar" as const,
    seed: 1,
    maxDuration: 2,
  };
  const timed = async () => {
    const t0 = performance.now();
    const result = await engine.synthesize(request);
    return { seconds: (performance.now() - t0) / 1e3, audioSeconds: result.audio.length / result.sampleRate };
  };
  const first = await timed();
  const second = await timed();
  await engine.dispose();
  rows.push({
    name: "engine: load once, then requests (ar+nar, 1 sentence)",
    params: { threads, frames: Math.round(second.audioSeconds * 75) },
    metrics: {
      loadSeconds,
      firstRequestSeconds: first.seconds,
      secondRequestSeconds: second.seconds,
      loadOverSecondRequest: loadSeconds / second.seconds,
    },
  });
}

// 4 concurrent requests against the same 4 one after another, on one engine (the tiny bundle).
{
  const tiny = await tinyBundle(join(work, "tiny"));
  // Default threads: the cores, shared among the requests running at once.
  await using engine = await Engine.load({ models: { lm: tiny.lm, codec: tiny.codec, tokenizer: tiny.tokenizer } });
  const requests = [0, 1, 2, 3].map((i) => ({
    text: `Request number ${i} is here.`,
    reference: voice,
    language: "en" as const,
    seed: i,
    maxDuration: 1,
    sampling: { maxSteps: 10 },
  }));
  await engine.synthesize(requests[0] as (typeof requests)[number]); // warm-up
  let t0 = performance.now();
  for (const request of requests) await engine.synthesize(request);
  const sequential = (performance.now() - t0) / 1e3;
  t0 = performance.now();
  await Promise.all(requests.map((request) => engine.synthesize(request)));
  const concurrent = (performance.now() - t0) / 1e3;
  rows.push({
    name: "engine: 4 tiny requests, concurrent vs sequential",
    params: { threads, requests: 4 },
    metrics: {
      sequentialSeconds: sequential,
      concurrentSeconds: concurrent,
      concurrentOverSequential: concurrent / sequential,
    },
  });
}
rmSync(work, { recursive: true, force: true });
report("pipeline", rows, { threads, text, maxDuration: 2, promptSeconds: 3 });
