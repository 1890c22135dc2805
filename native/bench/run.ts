/**
 * Foundation benchmark: this machine's ggml matmul peak and memory bandwidth, the two numbers later benchmarks
 * state their targets against.
 *   - matmul GFLOP/s at the default thread count, weights in f32 / f16 / q8_0, with the real model's shapes
 *     (1024×1024 attention, 4096×1024 MLP, 17702×1024 full output head) against 600 activation rows;
 *   - the same weights against one row (an AR step's shape): weight bytes streamed per second;
 *   - memory bandwidth of c = a + b over three 256 MiB vectors.
 * Run with `pnpm bench` (or `pnpm --filter @vall-e/native bench`).
 */
import { type BenchRow, median, report, timeRuns } from "@tooling/bench";
import { MatmulKernel, measureVectorAddBandwidth, systemInfo, WEIGHT_TYPES } from "../lib/index.js";

const info = systemInfo();
const threads = info.defaultThreads;
const columns = 1024;
const batch = 600;
const shapes = [1024, 4096, 17702];
const rows: BenchRow[] = [];

function seeded(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32) * 2 - 1;
  }
  return out;
}

const inputBatch = { data: seeded(batch * columns, 2), rows: batch, cols: columns };
const inputRow = { data: seeded(columns, 3), rows: 1, cols: columns };

for (const type of WEIGHT_TYPES) {
  for (const m of shapes) {
    await using kernel = await MatmulKernel.create({ data: seeded(m * columns, m), rows: m, cols: columns }, { type });
    const seconds = median(await timeRuns(() => kernel.compute(inputBatch, { threads }), 5));
    const flops = 2 * m * columns * batch;
    rows.push({
      name: `matmul ${type} ${m}x${columns} · ${batch}`,
      params: { type, m, k: columns, n: batch, threads },
      metrics: { ms: seconds * 1e3, gflops: flops / seconds / 1e9 },
    });
    const rowSeconds = median(await timeRuns(() => kernel.compute(inputRow, { threads }), 20, 3));
    rows.push({
      name: `matvec ${type} ${m}x${columns} · 1`,
      params: { type, m, k: columns, n: 1, threads },
      metrics: {
        ms: rowSeconds * 1e3,
        gflops: (2 * m * columns) / rowSeconds / 1e9,
        weightGBps: kernel.weightBytes / rowSeconds / 1e9,
      },
    });
  }
}

const bandwidth = await measureVectorAddBandwidth({ threads, iterations: 5 });
rows.push({
  name: `vector add 3 x ${bandwidth.bytes / 2 ** 20} MiB`,
  params: { bytes: bandwidth.bytes, threads },
  metrics: { ms: bandwidth.seconds * 1e3, GBps: bandwidth.gbPerSecond },
});

const peak: Record<string, number> = {};
for (const row of rows) {
  const type = row.params?.type;
  if (typeof type === "string" && row.params?.n === batch)
    peak[type] = Math.max(peak[type] ?? 0, row.metrics.gflops ?? 0);
}

report("native-matmul", rows, {
  threads,
  ggml: `${info.ggmlVersion} (${info.ggmlCommit})`,
  build: info.build,
  cpuFeatures: info.cpuFeatures,
  peakGflops: peak,
  bandwidthGBps: bandwidth.gbPerSecond,
});
