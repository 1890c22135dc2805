/**
 * LM benchmark on a full-shape random model (width 1024, 12 layers, 16 heads, FFN 4096, the 17702-row vocabulary;
 * generated on first use under bench/.cache, not committed), F16 and Q8_0, default threads:
 *   - forward of a 600-row sequence (a 3 s prompt + 4 s output): rows/s and GFLOP/s as a fraction of the matmul
 *     peak measured in the same run (target ≥ 60%);
 *   - AR step latency with the KV cache at 300 and 900 cached rows, against weight bytes ÷ the memory bandwidth
 *     measured in the same run (target ≤ 1.5×);
 *   - peak RSS against the file size (target ≤ file + 300 MB).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type BenchRow, median, report, timeRuns } from "@tooling/bench";
import { MatmulKernel, measureVectorAddBandwidth, systemInfo } from "@vall-e/native";
import { FULL_SHAPE, LanguageModel, writeRandomModel } from "../src/index.js";

const cacheDir = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "bench", ".cache");
mkdirSync(cacheDir, { recursive: true });
const threads = systemInfo().defaultThreads;
const rows: BenchRow[] = [];

async function modelFile(type: "F16" | "Q8_0"): Promise<string> {
  const path = join(cacheDir, `vall-e-full-${type}.gguf`);
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
const only = process.argv[2] as "F16" | "Q8_0" | undefined;
if (!only) {
  const context: Record<string, unknown> = { threads };
  for (const type of ["F16", "Q8_0"] as const) {
    await modelFile(type);
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), type], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    if (child.status !== 0) throw new Error(`the ${type} benchmark failed (exit ${child.status})`);
    const result = JSON.parse(child.stdout) as { rows: BenchRow[]; bandwidthGBps: number };
    rows.push(...result.rows);
    context[`bandwidthGBps${type}`] = result.bandwidthGBps;
  }
  report("lm", rows, { ...context, targets: "peakFraction ≥ 0.6; ratioToBound ≤ 1.5; overFileMB ≤ 300" });
  process.exit(0);
}

const bandwidth = (await measureVectorAddBandwidth({ threads, bytes: 64 * 2 ** 20 })).gbPerSecond;

for (const type of [only]) {
  const path = await modelFile(type);
  const peak = await matmulPeak(type === "F16" ? "f16" : "q8_0");
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
      peakFraction: flops / seconds / 1e9 / peak,
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
}

process.stdout.write(JSON.stringify({ rows, bandwidthGBps: bandwidth }));
