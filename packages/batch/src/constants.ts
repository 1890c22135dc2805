/**
 * The batch's defaults, in a module that imports nothing, so the CLI's `--help` can show them without loading the
 * queue client or the engine (`@vall-e/batch/constants`).
 */

/** The queue's name when none is given. */
export const DEFAULT_QUEUE_NAME = "vall-e";
/** Attempts per job: a failure that another attempt can fix is retried twice, after 2 s and 4 s. */
export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_MS = 2000;
/** A job's lock lasts this long without renewal (renewed every half of it by a running worker). */
export const DEFAULT_LOCK_DURATION_MS = 30_000;
/** How often each worker looks for stalled jobs (locks that expired: their worker is gone). */
export const DEFAULT_STALLED_INTERVAL_MS = 15_000;
/** Times a job may stall and return to the queue before it fails. */
export const DEFAULT_MAX_STALLED = 2;
/** Jobs per addBulk. */
export const ENQUEUE_BATCH_SIZE = 500;
