/** What the procedures share: the conditioning, progress events and cancellation. */
import type { Language, Task } from "../model/layout.js";

/** The conditioning of a generation: phonemes (with <bos>/</eos>), language, the voice prompt (levels × frames). */
export interface Conditioning {
  phonemes: readonly number[];
  lang: Language;
  /** EnCodec codes of the voice, levels × frames (8 levels for the NAR); empty or absent: no prompt. */
  prompt?: readonly (readonly number[])[];
  /** ns / sr: the task token that opens the prompt segment (`vall_e/inference.py` `TTS.inference`). */
  promptTask?: Task;
}

export type Stage = "len" | "ar" | "nar-len" | "nar" | "stt";

export interface ProgressEvent {
  stage: Stage;
  /** 1-based step within the stage. */
  step: number;
  /** Steps the stage takes at most. */
  total: number;
}

export interface RunOptions {
  signal?: AbortSignal | undefined;
  onProgress?: ((event: ProgressEvent) => void) | undefined;
}

/** One row of a flat [rows × width] block of logits (a view). */
export function rowOf(block: Float32Array, row: number, width: number): Float32Array {
  return block.subarray(row * width, (row + 1) * width);
}
