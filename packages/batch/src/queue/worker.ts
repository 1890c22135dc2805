/**
 * A worker: takes the queue's jobs one at a time (or `concurrency` at once) and speaks each on one Engine loaded once,
 * into the shared output folder, atomically — a job that runs twice (it stalled: its worker was killed or lost its
 * lock) still leaves exactly one DIR/<id>/, and a job whose item is already there is not spoken again. A job that
 * cannot succeed (a bad setting, a missing or changed voice, a job made by another version) fails at once; other
 * failures are retried by the queue (3 attempts, exponential backoff). A worker that stops (close(), SIGTERM) finishes
 * its running jobs first; one that is killed loses its lock, and the job returns to the queue after `lockDurationMs`
 * (found by any worker's stalled check, every `stalledIntervalMs`).
 */
import { hostname } from "node:os";
import type { Engine } from "@vall-e/pipeline";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import { DEFAULT_LOCK_DURATION_MS, DEFAULT_MAX_STALLED, DEFAULT_STALLED_INTERVAL_MS } from "../constants.js";
import { type BatchJob, checkJob } from "../job.js";
import { OutputStore } from "../output/store.js";
import { describeError } from "../results.js";
import { runItem } from "../run.js";
import { VoicePool } from "../voices.js";
import { connectionOptions, JOB_NAME, type QueueLocation } from "./connection.js";

/** What a completed job returns (kept in the queue; `vall-e batch --wait` reads it). */
export interface WorkerResult {
  id: string;
  line: number;
  /** Seconds of audio. */
  seconds: number;
  seed: number;
  /** `<id>/output.wav`, relative to the output folder. */
  output: string;
  /** Found done in the output folder rather than spoken. */
  resumed: boolean;
  worker: string;
}

/** Codes of failures that another attempt cannot fix. */
const PERMANENT = new Set([
  "ERR_INVALID_ARGUMENT",
  "ERR_JOB_INVALID",
  "ERR_JOB_KEY",
  "ERR_MANIFEST_ID",
  "ERR_FILE_NOT_FOUND",
  "ERR_VOICE_NOT_FOUND",
  "ERR_VOICE_CHANGED",
  "ERR_AUDIO_FORMAT",
]);

export type WorkerEvent =
  | { type: "started"; job: BatchJob; attempt: number }
  | { type: "completed"; job: BatchJob; result: WorkerResult; elapsed: number }
  | { type: "failed"; jobId: string; job?: BatchJob; code: string; message: string; final: boolean }
  | { type: "stalled"; jobId: string }
  | { type: "error"; error: Error };

export interface BatchWorkerOptions {
  location: QueueLocation;
  /** The output folder (shared storage when workers run on several machines). */
  out: string;
  /** The engine every job runs on (the caller loads and disposes it). */
  engine: Engine;
  /** The voice library (for jobs whose voice is a library voice). */
  voicesDir?: string;
  /** Jobs at once in this process (default 1). */
  concurrency?: number;
  /** How long a job's lock lasts without renewal, ms (default 30 000; renewed every half of it). */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs, ms (default 15 000). */
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  /** The worker's name, kept on each job it runs (default <host>-<pid>). */
  name?: string;
  onEvent?: (event: WorkerEvent) => void;
}

export class BatchWorker {
  readonly name: string;
  readonly #worker: Worker<BatchJob, WorkerResult>;
  #completed = 0;
  #failed = 0;
  #closing: Promise<void> | undefined;

  private constructor(name: string, worker: Worker<BatchJob, WorkerResult>) {
    this.name = name;
    this.#worker = worker;
  }

  /** Jobs this worker completed, and failed (attempts included). */
  get counts(): { completed: number; failed: number } {
    return { completed: this.#completed, failed: this.#failed };
  }

  /** Start taking jobs; resolves once connected. */
  static async start(options: BatchWorkerOptions): Promise<BatchWorker> {
    const store = await OutputStore.open(options.out);
    const voices = new VoicePool(
      options.engine,
      options.voicesDir === undefined ? {} : { voicesDir: options.voicesDir },
    );
    const name = options.name ?? `${hostname()}-${process.pid}`;
    const emit = (event: WorkerEvent) => options.onEvent?.(event);
    const processor = async (job: Job<BatchJob, WorkerResult>): Promise<WorkerResult> => {
      let checked: BatchJob;
      try {
        if (job.name !== JOB_NAME)
          throw Object.assign(new Error(`Unknown job name ${job.name}`), { code: "ERR_JOB_INVALID" });
        checked = checkJob(job.data, job.id);
      } catch (error) {
        const { code, message } = describeError(error);
        throw new UnrecoverableError(`${code}: ${message}`);
      }
      emit({ type: "started", job: checked, attempt: job.attemptsStarted });
      const start = performance.now();
      try {
        const { item, resumed } = await runItem(options.engine, checked, { store, voices });
        const result: WorkerResult = {
          id: checked.id,
          line: checked.line,
          seconds: item.seconds,
          seed: item.seed,
          output: `${checked.id}/output.wav`,
          resumed,
          worker: name,
        };
        emit({ type: "completed", job: checked, result, elapsed: (performance.now() - start) / 1e3 });
        return result;
      } catch (error) {
        const { code, message } = describeError(error);
        throw PERMANENT.has(code) ? new UnrecoverableError(`${code}: ${message}`) : new Error(`${code}: ${message}`);
      }
    };
    const worker = new Worker<BatchJob, WorkerResult>(options.location.name, processor, {
      connection: connectionOptions(options.location.url),
      name,
      concurrency: options.concurrency ?? 1,
      lockDuration: options.lockDurationMs ?? DEFAULT_LOCK_DURATION_MS,
      stalledInterval: options.stalledIntervalMs ?? DEFAULT_STALLED_INTERVAL_MS,
      maxStalledCount: options.maxStalledCount ?? DEFAULT_MAX_STALLED,
      autorun: false,
    });
    const self = new BatchWorker(name, worker);
    worker.on("completed", () => {
      self.#completed++;
    });
    worker.on("failed", (job, error) => {
      self.#failed++;
      const { code, message } = describeFailure(error);
      const attempts = job?.opts.attempts ?? 1;
      emit({
        type: "failed",
        jobId: job?.id ?? "?",
        ...(job?.data?.id === undefined ? {} : { job: job.data }),
        code,
        message,
        final: error instanceof UnrecoverableError || (job?.attemptsMade ?? 0) >= attempts,
      });
    });
    worker.on("stalled", (jobId) => emit({ type: "stalled", jobId }));
    worker.on("error", (error) => emit({ type: "error", error }));
    await worker.waitUntilReady();
    void worker.run().catch((error: Error) => emit({ type: "error", error }));
    return self;
  }

  /**
   * Stop taking jobs and wait for the running ones to finish (`force`: do not wait — BullMQ returns them to the queue
   * when their lock expires). Idempotent.
   */
  close(force = false): Promise<void> {
    if (force) return this.#worker.close(true);
    this.#closing ??= this.#worker.close();
    return this.#closing;
  }
}

function describeFailure(error: Error): { code: string; message: string } {
  const match = /^(ERR_[A-Z0-9_]+): ([\s\S]*)$/.exec(error.message);
  return match ? { code: match[1] as string, message: match[2] as string } : describeError(error);
}
