/**
 * LM benchmark on a full-shape random model (width 1024, 12 layers, 16 heads, FFN 4096, the 17702-row vocabulary;
 * generated on first use under bench/.cache, not committed), F16 and Q8_0, and BF16, Q4_K_M, Q3_K_M, Q2_K made from the
 * F16 file by llama-quantize, default threads:
 *   - forward of a 600-row sequence (a 3 s prompt + 4 s output): rows/s and GFLOP/s as a fraction of the matmul
 *     peak measured in the same run (target ≥ 60%);
 *   - AR step latency with the KV cache at 300 and 900 cached rows, against weight bytes ÷ the memory bandwidth
 *     measured in the same run (target ≤ 1.5×);
 *   - peak RSS against the file size (target ≤ file + 300 MB);
 *   - generation (F16): a 3 s prompt and 4 s (300 frames) of output by NAR-len (25 steps) + NAR and by AR + NAR,
 *     wall time, real-time factor and per-stage times; one NAR-len step (conditional + null input in one batch,
 *     plus sampling) against one conditional forward (target ≤ 1.25×);
 *   - four sentences (1 s prompt, ≤ 2 s each, 10 steps) generated together by generateBatch against one by one;
 *   - AR beam search (width 4, 20 frames, 1 s prompt) with a KV cache per hypothesis against re-evaluating all.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BenchRow, median, report, timeRuns } from "@tooling/bench";
import { MatmulKernel, measureVectorAddBandwidth, systemInfo } from "@vall-e/native";
import {
  arSampler,
  createRng,
  FULL_SHAPE,
  generate,
  generateAr,
  generateArBeam,
  generateBatch,
  generateNar,
  generateNarLen,
  LanguageModel,
  narLenSampler,
  narSampler,
  predictLength,
  resolveSampling,
  writeRandomModel,
} from "../src/index.js";
import { llamaBench, llamaTools, quantize } from "./llama-bench.js";

const cacheDir = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "bench", ".cache");
mkdirSync(cacheDir, { recursive: true });
const threads = systemInfo().defaultThreads;
const rows: BenchRow[] = [];

type WeightType = "F16" | "Q8_0" | "Q4_K" | "BF16" | "Q3_K" | "Q2_K";
const WEIGHT_TYPES: readonly WeightType[] = ["F16", "Q8_0", "Q4_K", "BF16", "Q3_K", "Q2_K"];

// The published mixes made from the F16 file by llama.cpp's llama-quantize, as the published files were (Q4_K: what
// users download most); F16 and Q8_0 are written directly.
const QUANTIZED: Partial<Record<WeightType, string>> = { Q4_K: "Q4_K_M", BF16: "BF16", Q3_K: "Q3_K_M", Q2_K: "Q2_K" };

async function modelFile(type: WeightType): Promise<string> {
  const path = join(cacheDir, `vall-e-full-${type}.gguf`);
  const ftype = QUANTIZED[type];
  if (ftype) {
    if (!existsSync(path)) quantize(await llamaTools(), await modelFile("F16"), path, ftype, threads);
    return path;
  }
  if (!existsSync(path)) {
    process.stderr.write(`writing ${path} …\n`);
    await writeRandomModel(path, { ...FULL_SHAPE, type, seed: 5 });
  }
  return path;
}

async function matmulPeak(type: "f16" | "q8_0"): Promise<number> {
  const weights = { data: Float32Array.from({ length: 4096 * 1024 }, (_, i) => Math.sin(i)), rows: 4096, cols: 1024 };
  const input = { data: Float32Array.from({ length: 600 * 1024 }, (_, i) => Math.cos(i)), rows: 600, cols: 1024 };
  await using kernel = await MatmulKernel.create(weights, { type });
  const seconds = median(await timeRuns(() => kernel.compute(input, { threads }), 5));
  return (2 * 4096 * 1024 * 600) / seconds / 1e9;
}

// Each weight type runs in its own process, so that its peak RSS is its own.
const only = process.argv[2] as WeightType | undefined;
if (!only) {
  const context: Record<string, unknown> = { threads };
  for (const type of WEIGHT_TYPES) {
    await modelFile(type);
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), type], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    if (child.status !== 0) throw new Error(`the ${type} benchmark failed (exit ${child.status})`);
    const result = JSON.parse(child.stdout) as { rows: BenchRow[]; bandwidthGBps: number };
    rows.push(...result.rows);
    context[`bandwidthGBps${type}`] = result.bandwidthGBps;
    // The peer, on the same file, threads and rows, in the same run: llama-bench's prompt processing of as many
    // tokens as our forward's rows, and its generation step after as many cached tokens as our AR step's.
    const forward = result.rows.find((row) => row.name.startsWith(`forward ${type} `));
    const step = result.rows.find((row) => row.name.startsWith(`AR step ${type} at `)); // the ~300-row one
    if (!forward || !step) throw new Error(`the ${type} benchmark gave no forward or AR step row`);
    {
      const forwardRows = Number(forward.params?.rows);
      const depth = Number(step.params?.cached);
      const peer = llamaBench(await llamaTools(), await modelFile(type), {
        threads,
        prompt: forwardRows,
        gen: 32,
        depth,
        repetitions: 3,
      });
      const ours = { rowsPerSecond: Number(forward.metrics.rowsPerSecond), stepMs: Number(step.metrics.ms) };
      rows.push({
        name: `vs llama-bench ${type}`,
        params: { type, rows: forwardRows, depth, threads, llamaCpp: "0.5.0 (the addon's pinned tree)" },
        metrics: {
          rowsPerSecond: ours.rowsPerSecond,
          llamaPpTokensPerSecond: peer.ppTokensPerSecond,
          forwardRatio: ours.rowsPerSecond / peer.ppTokensPerSecond,
          stepMs: ours.stepMs,
          llamaTgStepMs: peer.tgStepMs,
          stepRatio: ours.stepMs / peer.tgStepMs,
        },
      });
    }
  }
  report("lm", rows, {
    ...context,
    targets:
      "peakFraction ≥ 0.6; ratioToBound ≤ 1.5; overFileMB ≤ 300; stepToForward ≤ 1.25; arStepToBound ≤ 1.5; " +
      "vs llama-bench: forwardRatio ≥ 1.0 (our rows/s over its prompt tokens/s), stepRatio ≤ 0.95",
  });
  process.exit(0);
}

const bandwidth = (await measureVectorAddBandwidth({ threads, bytes: 64 * 2 ** 20 })).gbPerSecond;

for (const type of [only]) {
  const path = await modelFile(type);
  // Our matmul peak for the weight types the kernel benchmark has (F16 and Q8_0).
  const peak = type === "F16" || type === "Q8_0" ? await matmulPeak(type === "F16" ? "f16" : "q8_0") : undefined;
  await using model = await LanguageModel.load(path);
  await using context = await model.createContext({ contextSize: 1024, threads });
  const rssAfterLoad = process.memoryUsage().rss / 2 ** 20;
  const { nEmbd: e, nLayer: layers, nFf: ffn, weightBytes } = model.info;

  // A 600-row sequence: 40 phonemes, a 225-frame prompt, a 300-frame NAR-len response (full attention).
  const spec = {
    mode: "nar-len" as const,
    phonemes: [1, ...Array.from({ length: 38 }, (_, i) => 4 + (i % 200)), 2],
    lang: "en" as const,
    rvqLevel: 0,
    prompt: [Array.from({ length: 225 }, (_, i) => (i * 37) % 1024)],
    response: [Array.from({ length: 329 }, (_, i) => (i * 11) % 1025)],
  };
  const input = model.assemble(spec);
  const n = input.rows.length;
  const seconds = median(await timeRuns(() => context.forward([input]), 3));
  const flops = n * layers * 2 * (4 * e * e + 3 * e * ffn) + layers * 4 * n * n * e + 2 * e * 1024 * input.outputs;
  rows.push({
    name: `forward ${type} ${n} rows`,
    params: { type, rows: n, threads },
    metrics: {
      ms: seconds * 1e3,
      rowsPerSecond: n / seconds,
      gflops: flops / seconds / 1e9,
      ...(peak === undefined ? {} : { peakFraction: flops / seconds / 1e9 / peak }),
    },
  });

  // AR steps with the KV cache after 300 and 900 cached rows.
  for (const cached of [300, 900]) {
    const ar = model.assemble({
      ...spec,
      mode: "ar",
      prompt: [Array.from({ length: cached - 44 }, (_, i) => (i * 7) % 1024)],
      response: [[]],
    });
    await context.prefill(ar);
    let position = 0;
    const step = median(await timeRuns(() => context.step([model.layout.ar.start + 5], position++), 20, 2));
    const bound = weightBytes / (bandwidth * 1e9);
    rows.push({
      name: `AR step ${type} at ${ar.rows.length} rows`,
      params: { type, cached: ar.rows.length, threads },
      metrics: { ms: step * 1e3, boundMs: bound * 1e3, ratioToBound: step / bound },
    });
  }
  // Peak RSS of the forward and AR measurements (the generation below holds a CFG pair's buffers too).
  const rssMB = process.resourceUsage().maxRSS / 1024;
  rows.push({
    name: `peak RSS ${type}`,
    params: { type },
    metrics: {
      rssMB,
      rssAfterLoadMB: rssAfterLoad,
      fileMB: statSync(path).size / 2 ** 20,
      overFileMB: rssMB - statSync(path).size / 2 ** 20,
    },
  });

  if (type === "F16") {
    // Generation: 3 s prompt (225 frames × 8 levels), 4 s output (300 frames).
    const conditioning = {
      phonemes: spec.phonemes,
      lang: "en" as const,
      prompt: Array.from({ length: 8 }, (_, l) => Array.from({ length: 225 }, (_, i) => (i * 37 + l * 101) % 1024)),
    };
    const sampling = resolveSampling();
    const frames = 300;
    const time = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
      const start = performance.now();
      const value = await run();
      return [value, (performance.now() - start) / 1e3];
    };
    const narLenInput = model.assemble({
      ...spec,
      prompt: conditioning.prompt.slice(0, 1),
      response: [Array(frames).fill(1024)],
    });
    const conditional = median(await timeRuns(() => context.forward([narLenInput]), 3));
    const [, lenSeconds] = await time(() => predictLength(context, conditioning, { maxFrames: 900 }));
    const [level0, narLenSeconds] = await time(() =>
      generateNarLen(context, conditioning, {
        sampler: (t) => narLenSampler(sampling, t),
        rng: createRng(1),
        frames,
        maxSteps: 25,
      }),
    );
    const [, narSeconds] = await time(() =>
      generateNar(context, conditioning, [level0], { sampler: narSampler(sampling), rng: createRng(2) }),
    );
    const narLenTotal = lenSeconds + narLenSeconds + narSeconds;
    rows.push({
      name: `generate nar-len F16 ${frames} frames`,
      params: { type, frames, steps: 25, promptFrames: 225, threads },
      metrics: {
        seconds: narLenTotal,
        realTimeFactor: narLenTotal / (frames / 75),
        lenSeconds,
        narLenSeconds,
        narSeconds,
        conditionalForwardMs: conditional * 1e3,
        stepMs: (narLenSeconds / 25) * 1e3,
        stepToForward: narLenSeconds / 25 / conditional,
      },
    });
    const [ar, arSeconds] = await time(() =>
      generateAr(context, conditioning, { sampler: arSampler(sampling), rng: createRng(3), maxFrames: frames }),
    );
    const arFrames = ar.codes.length;
    const [, arNarSeconds] = await time(() =>
      generateNar(context, conditioning, [ar.codes], { sampler: narSampler(sampling), rng: createRng(4) }),
    );
    const bound = weightBytes / (bandwidth * 1e9);
    rows.push({
      name: `generate ar+nar F16 ${arFrames} frames`,
      params: { type, frames: arFrames, promptFrames: 225, threads },
      metrics: {
        seconds: arSeconds + arNarSeconds,
        realTimeFactor: (arSeconds + arNarSeconds) / (arFrames / 75),
        arSeconds,
        narSeconds: arNarSeconds,
        arStepMs: (arSeconds / Math.max(1, arFrames)) * 1e3,
        arStepToBound: arSeconds / Math.max(1, arFrames) / bound,
        peakRssMB: process.resourceUsage().maxRSS / 1024,
      },
    });
    const short = { ...conditioning, prompt: conditioning.prompt.map((level) => level.slice(0, 75)) };
    // Four sentences generated together (generateBatch: one batch per len digit, NAR-len step and NAR level) against
    // one after another (generate), 1 s prompt, at most 2 s each, 10 steps: the same codes, in less time where larger
    // batches use the hardware better (a GPU most; here the CPU).
    const sentences = [17, 29, 23, 35].map((n, i) => ({
      phonemes: [1, ...Array.from({ length: n }, (_, j) => 4 + ((j * 41 + i * 13) % 200)), 2],
      lang: "en" as const,
      prompt: short.prompt,
      seed: 10 + i,
      maxDuration: 2,
      sampling: { maxSteps: 10 },
    }));
    const [oneByOne, sequentialSeconds] = await time(async () => {
      const out = [];
      for (const sentence of sentences) out.push(await generate(model, { ...sentence, threads }));
      return out;
    });
    const [together, batchSeconds] = await time(() => generateBatch(model, sentences, { threads }));
    const same = JSON.stringify(together.map((r) => r.codes)) === JSON.stringify(oneByOne.map((r) => r.codes));
    if (!same) throw new Error("generateBatch gave other codes than generate one by one");
    const batchFrames = together.reduce((n, r) => n + (r.codes[0]?.length ?? 0), 0);
    rows.push({
      name: `generate ${sentences.length} sentences together nar-len F16`,
      params: { type, sentences: sentences.length, frames: batchFrames, steps: 10, promptFrames: 75, threads },
      metrics: {
        sequentialSeconds,
        batchSeconds,
        speedup: sequentialSeconds / batchSeconds,
        batchRealTimeFactor: batchSeconds / (batchFrames / 75),
      },
    });
    // AR beam search, width 4, 20 frames after a 1 s prompt: a KV cache per hypothesis against re-evaluating all.
    const beam = { sampler: arSampler(sampling), width: 4, maxFrames: 20 };
    const [cachedBeam, beamCached] = await time(() => generateArBeam(context, short, beam));
    const [, beamRecomputed] = await time(() => generateArBeam(context, short, { ...beam, cache: false }));
    rows.push({
      name: "AR beam 4 F16 20 frames",
      params: { type, width: 4, frames: cachedBeam.codes.length, promptFrames: 75, threads },
      metrics: { cachedSeconds: beamCached, recomputedSeconds: beamRecomputed, speedup: beamRecomputed / beamCached },
    });
  }
}

process.stdout.write(JSON.stringify({ rows, bandwidthGBps: bandwidth }));
