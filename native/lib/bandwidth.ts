import { expectInteger, expectThreads } from "@vall-e/core";
import { binding } from "./binding.js";
import { callNative } from "./errors.js";

export interface VectorAddOptions {
  /** Bytes of each of the three vectors (default 256 MiB: far larger than any cache). */
  bytes?: number;
  /** Threads (default: physical cores). */
  threads?: number;
  /** Runs; the fastest counts (default 5). */
  iterations?: number;
}

export interface VectorAddResult {
  bytes: number;
  threads: number;
  seconds: number;
  /** (2 reads + 1 write) × bytes / seconds, in GB/s (10^9 bytes). */
  gbPerSecond: number;
}

/** Memory bandwidth as ggml sees it: c = a + b over three large f32 vectors, on a worker thread. */
export async function measureVectorAddBandwidth(options: VectorAddOptions = {}): Promise<VectorAddResult> {
  const bytes = expectInteger(options.bytes ?? 256 * 2 ** 20, "bytes", 4096, 2 ** 34);
  const threads = expectThreads(options.threads);
  const iterations = expectInteger(options.iterations ?? 5, "iterations", 1, 1000);
  const seconds = await callNative(() => binding().benchVectorAdd(bytes, threads, iterations));
  const used = threads === 0 ? binding().systemInfo().defaultThreads : threads;
  return { bytes, threads: used, seconds, gbPerSecond: (3 * bytes) / seconds / 1e9 };
}
