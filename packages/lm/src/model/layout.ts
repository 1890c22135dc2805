/**
 * The unified embedding / output-head layout of the published VALL-E exports (`vall_e/export.py` `convert_to_hf_llama`,
 * the ranges of `vall_e/models/base.py` `_get_offsets`): which rows of `token_embd` and `output` belong to which input
 * segment or head. Issue-5 loaders recover the ranges from a GGUF's vocabulary (the token names the export writes) and
 * check them against this table.
 */

export interface RowRange {
  /** First row. */
  start: number;
  /** One past the last row. */
  end: number;
}

import { CODEBOOK_SIZE, LANGUAGES, RVQ_LEVELS, TASKS } from "@vall-e/core";

export { CODEBOOK_SIZE, LANGUAGES, type Language, RVQ_LEVELS, TASKS, type Task } from "@vall-e/core";

const range = (start: number, rows: number): RowRange => ({ start, end: start + rows });

/** The layout of `vall_e/export.py` for the 8-level, 1024-wide reference models (17702 rows). */
export const KNOWN_LAYOUT = Object.freeze({
  text: range(0, 256),
  rvqLevel: range(256, RVQ_LEVELS),
  lang: range(264, LANGUAGES.length),
  task: range(270, TASKS.length),
  len: range(279, 11),
  tone: range(290, 1),
  sep: range(291, 1),
  /** prom|l for l = 0..7: prompt-code embeddings of each level. */
  prom: Array.from({ length: RVQ_LEVELS }, (_, level) => range(292 + CODEBOOK_SIZE * level, CODEBOOK_SIZE)),
  /** resps|AR:0:0: 1024 codes + the stop token. */
  ar: range(8484, CODEBOOK_SIZE + 1),
  /** resps|NAR:{L-1}:{L} for L = 1..7 (index L - 1). */
  nar: Array.from({ length: RVQ_LEVELS - 1 }, (_, index) => range(9509 + CODEBOOK_SIZE * index, CODEBOOK_SIZE)),
  /** resps|NAR:0:0 (NAR-len): 1024 codes + the mask token; its head has 1024 trained rows. */
  narLen: range(16677, CODEBOOK_SIZE + 1),
  vocabularySize: 17702,
});

/** Notable global row ids (in the `convert_to_hf_llama` layout). */
export const SPECIAL_ROWS = Object.freeze({
  arStop: KNOWN_LAYOUT.ar.start + CODEBOOK_SIZE, // 9508
  narLenMask: KNOWN_LAYOUT.narLen.start + CODEBOOK_SIZE, // 17701
  lenStop: KNOWN_LAYOUT.len.start + 10, // 289
  sep: KNOWN_LAYOUT.sep.start, // 291
});
