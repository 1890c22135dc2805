/**
 * Speaking jobs: one job (runItem — shared by the single-machine batch and the queue's workers) and a whole manifest
 * on one machine (runBatch): one Engine for every item, each distinct voice prepared once, items already done in the
 * output folder skipped (so a batch resumes where it stopped), each item written atomically, and one result per line.
 */
import { join } from "node:path";
import type { Engine } from "@vall-e/pipeline";
import type { BatchJob } from "./job.js";
import type { Manifest } from "./manifest/read.js";
import type { ItemOutput, OutputStore } from "./output/store.js";
import { type BatchResult, byLine, describeError, errorResult, okResult } from "./results.js";
import { VoicePool } from "./voices.js";

export interface RunItemOptions {
  store: OutputStore;
  voices: VoicePool;
  signal?: AbortSignal;
}

/** The outcome of one job: its item, and whether it was found done rather than spoken. */
export interface ItemOutcome {
  item: ItemOutput;
  resumed: boolean;
}

/** Speak one job into the output folder, unless it is there already. */
export async function runItem(engine: Engine, job: BatchJob, options: RunItemOptions): Promise<ItemOutcome> {
  const { store, voices, signal } = options;
  const done = await store.verify(job);
  if (done) return { item: done, resumed: true };
  const reference = job.voice === undefined ? undefined : await voices.get(job.voice);
  signal?.throwIfAborted();
  const item = await store.write(job, async (dir) => {
    await engine.synthesize({
      text: job.text,
      ...job.settings,
      seed: job.seed,
      ...(reference === undefined ? {} : { reference }),
      artifactsDir: dir,
      // A library voice is not a file: run.json names the prompt codes it made, where they will be once renamed.
      ...(job.voice?.kind === "library"
        ? { record: { promptCodes: join(store.itemDir(job.id), "prompt.codes.npy") } }
        : {}),
      ...(signal === undefined ? {} : { signal }),
    });
  });
  return { item, resumed: false };
}

/** Progress of a batch: after each line (done, resumed or failed). */
export interface BatchProgress {
  /** Lines finished so far, of `total`. */
  done: number;
  total: number;
  result: BatchResult;
  /** Seconds this item took (0 when resumed or refused). */
  elapsed: number;
  /** Estimated seconds left, from the items spoken so far (undefined before the first). */
  eta: number | undefined;
}

export interface RunBatchOptions {
  store: OutputStore;
  /** The engine, loaded only when some item has to be spoken. */
  engine: () => Promise<Engine>;
  voicesDir?: string;
  signal?: AbortSignal;
  onProgress?: (event: BatchProgress) => void;
}

/**
 * Do a manifest on this machine: the lines that failed to parse are results at once; the items already done are
 * found (without loading the engine); the rest are spoken one after another on one Engine. Resolves to every line's
 * result in manifest order; a failing item is its line's error, the others still run. Throws only when cancelled or
 * when the engine cannot be loaded.
 */
export async function runBatch(manifest: Manifest, options: RunBatchOptions): Promise<BatchResult[]> {
  const { store, signal, onProgress } = options;
  const total = manifest.jobs.length + manifest.failures.length;
  const results: BatchResult[] = [];
  let spokenSeconds = 0;
  let spoken = 0;
  const report = (result: BatchResult, elapsed: number, remaining: number) => {
    results.push(result);
    onProgress?.({
      done: results.length,
      total,
      result,
      elapsed,
      eta: spoken === 0 ? undefined : (spokenSeconds / spoken) * remaining,
    });
  };
  for (const failure of manifest.failures) report(errorResult(failure), 0, manifest.jobs.length);

  const todo: BatchJob[] = [];
  for (const job of manifest.jobs) {
    signal?.throwIfAborted();
    const done = await store.verify(job);
    if (done) report(okResult(job.line, done, true), 0, manifest.jobs.length);
    else todo.push(job);
  }
  if (todo.length > 0) {
    const engine = await options.engine();
    const voices = new VoicePool(engine, options.voicesDir === undefined ? {} : { voicesDir: options.voicesDir });
    for (const [index, job] of todo.entries()) {
      signal?.throwIfAborted();
      const start = performance.now();
      let result: BatchResult;
      try {
        const { item, resumed } = await runItem(engine, job, { store, voices, ...(signal ? { signal } : {}) });
        result = okResult(job.line, item, resumed);
      } catch (error) {
        if (signal?.aborted) throw error;
        result = errorResult({ line: job.line, id: job.id, ...describeError(error) });
      }
      const elapsed = (performance.now() - start) / 1e3;
      spoken++;
      spokenSeconds += elapsed;
      report(result, elapsed, todo.length - index - 1);
    }
  }
  return byLine(results);
}
