/**
 * What the batch writes under its output folder DIR: `DIR/<id>/` per item (output.wav, run.json, batch.json and the
 * engine's other artifacts), `DIR/results.jsonl`, and `DIR/.partial/`, where an item is written before it is renamed
 * into place — so `DIR/<id>/` is either absent or complete, never half-written.
 */

/** One line per manifest line: the outcome of each item. */
export const RESULTS_FILE = "results.jsonl";
/** Items (and results.jsonl) being written; renamed into place when complete. */
export const STAGING_DIR = ".partial";
/** What the batch records in `DIR/<id>/` beside the engine's run.json: the job's key, so a rerun recognises it. */
export const ITEM_RECORD = "batch.json";
export const ITEM_RECORD_FORMAT = "vall-e.batch-item/1";
/** Names in DIR that are not items. */
export const RESERVED_NAMES: readonly string[] = [".", "..", RESULTS_FILE, STAGING_DIR];
