/**
 * The benchmark harness. A suite is a list of rows (one measured configuration each, with named numeric metrics);
 * report() prints them as an aligned table on stdout and writes <repo>/bench/results/<suite>.json with the
 * machine's description, so later benchmarks can state their targets as ratios to earlier ones.
 * Benchmarks are run by `pnpm bench` (tsx), never by the test suite.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { arch, cpus, platform, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface BenchRow {
  /** What was measured, e.g. "matmul f16 4096x1024 · 600". */
  name: string;
  /** Measured numbers, e.g. { gflops: 123.4, ms: 20.1 }. */
  metrics: Record<string, number>;
  /** Parameters of the case, e.g. { threads: 2, type: "f16" }. */
  params?: Record<string, string | number | boolean>;
}

export interface BenchReport {
  suite: string;
  date: string;
  node: string;
  machine: { platform: string; arch: string; cpu: string; logicalCpus: number; memoryBytes: number };
  context: Record<string, unknown>;
  rows: BenchRow[];
}

/** <repo>/bench/results: found from this file's location, overridable with VALL_E_BENCH_DIR. */
export function resultsDir(): string {
  if (process.env.VALL_E_BENCH_DIR) return resolve(process.env.VALL_E_BENCH_DIR);
  return resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "bench", "results");
}

/** Time `fn` `iterations` times after `warmup` untimed runs; returns each run's seconds. */
export async function timeRuns(fn: () => Promise<unknown>, iterations: number, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const seconds: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    await fn();
    seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return seconds;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/** Render rows as an aligned text table (metrics as columns, in first-seen order). */
export function formatTable(rows: readonly BenchRow[]): string {
  const metricNames: string[] = [];
  for (const row of rows)
    for (const key of Object.keys(row.metrics)) if (!metricNames.includes(key)) metricNames.push(key);
  const header = ["case", ...metricNames];
  const body = rows.map((row) => [
    row.name,
    ...metricNames.map((key) => (key in row.metrics ? formatNumber(row.metrics[key] as number) : "-")),
  ]);
  const widths = header.map((_, column) =>
    Math.max(...[header, ...body].map((cells) => (cells[column] as string).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] as number) : cell.padStart(widths[column] as number),
      )
      .join("  ");
  return [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...body.map(line)].join("\n");
}

/** Print the table and write the JSON report; returns the JSON file's path. */
export function report(suite: string, rows: BenchRow[], context: Record<string, unknown> = {}): string {
  const cpuList = cpus();
  const result: BenchReport = {
    suite,
    date: new Date().toISOString(),
    node: process.version,
    machine: {
      platform: platform(),
      arch: arch(),
      cpu: cpuList[0]?.model ?? "unknown",
      logicalCpus: cpuList.length,
      memoryBytes: totalmem(),
    },
    context,
    rows,
  };
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${suite}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`\n${suite}\n${formatTable(rows)}\n\nwritten: ${file}\n`);
  return file;
}
