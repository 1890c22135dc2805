/**
 * @vall-e/batch — batch synthesis at scale: a JSON Lines manifest (`{ id, text, voice?, seed?, …settings }` per line)
 * spoken on one machine through one Engine (runBatch), or through a BullMQ queue on Redis by workers on many machines
 * (enqueueJobs, BatchWorker, queueStatus, waitForJobs); outputs written atomically to DIR/<id>/, resumable, one result
 * per line in DIR/results.jsonl.
 */

export {
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_LOCK_DURATION_MS,
  DEFAULT_MAX_STALLED,
  DEFAULT_QUEUE_NAME,
  DEFAULT_STALLED_INTERVAL_MS,
  ENQUEUE_BATCH_SIZE,
} from "./constants.js";
export { type BatchJob, canonicalJson, checkJob, JOB_FORMAT, jobKey, makeJob, resolvedOptions } from "./job.js";
export { ITEM_FIELDS, REQUEST_FIELDS, SAMPLING_FIELDS } from "./manifest/fields.js";
export {
  checkItemId,
  ITEM_ID,
  type LineFailure,
  MAX_LINE_BYTES,
  type ManifestLine,
  type ParsedLine,
  parseManifestLine,
  seedFor,
} from "./manifest/item.js";
export { type Manifest, type ReadManifestOptions, readManifest } from "./manifest/read.js";
export { ITEM_RECORD, RESERVED_NAMES, RESULTS_FILE, STAGING_DIR } from "./output/layout.js";
export { type ItemOutput, type ItemRecord, OutputStore } from "./output/store.js";
export {
  checkQueueLocation,
  checkRedis,
  displayUrl,
  JOB_NAME,
  type QueueLocation,
} from "./queue/connection.js";
export {
  type EnqueueOptions,
  type EnqueueResult,
  enqueueJobs,
} from "./queue/enqueue.js";
export {
  type ActiveJob,
  type JobOutcome,
  parseFailure,
  type QueueCounts,
  type QueueStatus,
  queueStatus,
  type WaitOptions,
  waitForJobs,
} from "./queue/status.js";
export {
  BatchWorker,
  type BatchWorkerOptions,
  type WorkerEvent,
  type WorkerResult,
} from "./queue/worker.js";
export {
  type BatchResult,
  byLine,
  describeError,
  type ErrorResult,
  errorResult,
  type OkResult,
  okResult,
} from "./results.js";
export {
  type BatchProgress,
  type ItemOutcome,
  type RunBatchOptions,
  type RunItemOptions,
  runBatch,
  runItem,
} from "./run.js";
export {
  openVoiceLibrary,
  type VoiceLibrary,
  VoicePool,
  VoiceResolver,
  type VoiceResolverOptions,
  type VoiceSource,
  voiceChecksum,
} from "./voices.js";
