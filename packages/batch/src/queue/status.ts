/**
 * Watching a queue: its counts (`vall-e batch --queue … --status`), the jobs running and on which worker, and waiting
 * until every job of a manifest has finished (`--wait`) with each one's outcome.
 */
import { type Job, Queue } from "bullmq";
import type { BatchJob } from "../job.js";
import { connectionOptions, type QueueLocation } from "./connection.js";
import type { WorkerResult } from "./worker.js";

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
}

export interface ActiveJob {
  id: string;
  line: number;
  /** The worker's name (`vall-e worker --name`, default <host>-<pid>). */
  worker?: string;
  /** When it started (ms since the epoch). */
  startedAt?: number;
}

export interface QueueStatus {
  counts: QueueCounts;
  /** The jobs running now (at most 100). */
  active: ActiveJob[];
}

function openQueue(location: QueueLocation): Queue<BatchJob, WorkerResult> {
  return new Queue<BatchJob, WorkerResult>(location.name, { connection: connectionOptions(location.url) });
}

/** The queue's counts and its running jobs. */
export async function queueStatus(location: QueueLocation): Promise<QueueStatus> {
  const queue = openQueue(location);
  try {
    const counts = await queue.getJobCounts("waiting", "prioritized", "active", "delayed", "completed", "failed");
    const active = (await queue.getActive(0, 99)).map((job) => ({
      id: job.data.id,
      line: job.data.line,
      ...(job.processedBy === undefined ? {} : { worker: job.processedBy }),
      ...(job.processedOn === undefined ? {} : { startedAt: job.processedOn }),
    }));
    return {
      counts: {
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        completed: counts.completed ?? 0,
        failed: counts.failed ?? 0,
      },
      active,
    };
  } finally {
    await queue.close();
  }
}

/** How a job ended. */
export type JobOutcome =
  | { state: "completed"; result: WorkerResult }
  | { state: "failed"; code: string; message: string; attempts: number }
  | { state: "missing" };

export interface WaitOptions {
  /** Between two looks at the queue (default 1000 ms). */
  intervalMs?: number;
  signal?: AbortSignal;
  /** After each look: how many of the jobs have finished. */
  onProgress?: (finished: number, total: number) => void;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      if (signal?.aborted) reject(signal.reason);
      else resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** "ERR_X: message", as the worker fails a job, → its code and message. */
export function parseFailure(reason: string | undefined): { code: string; message: string } {
  const match = /^(ERR_[A-Z0-9_]+): ([\s\S]*)$/.exec(reason ?? "");
  return match
    ? { code: match[1] as string, message: match[2] as string }
    : { code: "ERR_JOB_FAILED", message: reason || "the job failed" };
}

function outcomeOf(job: Job<BatchJob, WorkerResult> | undefined, state: string): JobOutcome | undefined {
  if (state === "completed" && job) return { state: "completed", result: job.returnvalue };
  if (state === "failed" && job)
    return { state: "failed", ...parseFailure(job.failedReason), attempts: job.attemptsMade };
  if (state === "unknown" || !job) return { state: "missing" };
  return undefined;
}

/**
 * Wait until every one of `jobs` has completed or failed for good (or is not in the queue), looking every
 * `intervalMs`; resolves to each job's outcome by key.
 */
export async function waitForJobs(
  location: QueueLocation,
  jobs: readonly BatchJob[],
  options: WaitOptions = {},
): Promise<Map<string, JobOutcome>> {
  const queue = openQueue(location);
  const outcomes = new Map<string, JobOutcome>();
  let pending = jobs.map((job) => job.key);
  try {
    for (;;) {
      const still: string[] = [];
      for (let start = 0; start < pending.length; start += 500) {
        const keys = pending.slice(start, start + 500);
        const states = await Promise.all(keys.map((key) => queue.getJobState(key)));
        await Promise.all(
          keys.map(async (key, i) => {
            const state = states[i] as string;
            const finished = state === "completed" || state === "failed" || state === "unknown";
            const outcome = finished ? outcomeOf(await queue.getJob(key), state) : undefined;
            if (outcome) outcomes.set(key, outcome);
            else still.push(key);
          }),
        );
      }
      pending = still;
      options.onProgress?.(outcomes.size, jobs.length);
      if (pending.length === 0) return outcomes;
      await sleep(options.intervalMs ?? 1000, options.signal);
      options.signal?.throwIfAborted();
    }
  } finally {
    await queue.close();
  }
}
