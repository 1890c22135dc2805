/**
 * Enqueuing a manifest's jobs: addBulk in batches, each job's id its key (so a job already in the queue — waiting,
 * running or done — is not added again: enqueuing the same manifest twice is a no-op), three attempts with
 * exponential backoff, and finished jobs kept (their results are what `vall-e batch --wait` reads). A job that failed
 * for good is retried when its manifest is enqueued again (`retryFailed`, the default).
 */
import { Queue } from "bullmq";
import { DEFAULT_ATTEMPTS, DEFAULT_BACKOFF_MS, ENQUEUE_BATCH_SIZE } from "../constants.js";
import type { BatchJob } from "../job.js";
import { connectionOptions, JOB_NAME, type QueueLocation } from "./connection.js";

export interface EnqueueOptions {
  /** Jobs per addBulk (default 500). */
  batchSize?: number;
  /** Attempts per job (default 3). */
  attempts?: number;
  /** First retry after this many milliseconds, doubling each time (default 2000). */
  backoffMs?: number;
  /** Put jobs that failed for good back in the queue, with their attempts reset (default true). */
  retryFailed?: boolean;
}

export interface EnqueueResult {
  /** Jobs added now. */
  added: number;
  /** Jobs that were in the queue already, waiting, running or done (left as they are). */
  existing: number;
  /** Jobs that had failed for good, put back in the queue. */
  retried: number;
}

/** Add jobs to the queue (each once, by its key). */
export async function enqueueJobs(
  location: QueueLocation,
  jobs: readonly BatchJob[],
  options: EnqueueOptions = {},
): Promise<EnqueueResult> {
  const batchSize = options.batchSize ?? ENQUEUE_BATCH_SIZE;
  const queue = new Queue<BatchJob>(location.name, { connection: connectionOptions(location.url) });
  let added = 0;
  let existing = 0;
  let retried = 0;
  try {
    for (let start = 0; start < jobs.length; start += batchSize) {
      const batch = jobs.slice(start, start + batchSize);
      const states = await Promise.all(batch.map((job) => queue.getJobState(job.key)));
      const fresh = batch.filter((_, i) => states[i] === "unknown");
      const failed = batch.filter((_, i) => states[i] === "failed");
      existing += batch.length - fresh.length;
      if (options.retryFailed ?? true) {
        for (const job of failed) {
          await (await queue.getJob(job.key))?.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
          retried++;
        }
        existing -= failed.length;
      }
      if (fresh.length === 0) continue;
      await queue.addBulk(
        fresh.map((job) => ({
          name: JOB_NAME,
          data: job,
          opts: {
            jobId: job.key,
            attempts: options.attempts ?? DEFAULT_ATTEMPTS,
            backoff: { type: "exponential", delay: options.backoffMs ?? DEFAULT_BACKOFF_MS },
            removeOnComplete: false,
            removeOnFail: false,
          },
        })),
      );
      added += fresh.length;
    }
  } finally {
    await queue.close();
  }
  return { added, existing, retried };
}
