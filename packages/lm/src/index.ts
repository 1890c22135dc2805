/**
 * @vall-e/lm — the VALL-E language model: model bundle loading (GGUF), input assembly, the inference procedures
 * (len, AR, NAR, NAR-len) and their samplers. So far: the known vocabulary layout the loader checks against.
 */
export {
  CODEBOOK_SIZE,
  KNOWN_LAYOUT,
  LANGUAGES,
  type Language,
  type RowRange,
  RVQ_LEVELS,
  SPECIAL_ROWS,
  TASKS,
  type Task,
} from "./model/layout.js";
