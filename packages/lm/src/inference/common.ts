/** What the procedures share: the conditioning, progress events and cancellation. */
import type { Evaluator } from "../evaluator.js";
import type { AssembledInput } from "../inputs/assemble.js";
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

/** The most sequences one evaluation takes (the native `vall_e_lm_forward`). */
export const MAX_SEQUENCES = 64;

/**
 * Evaluate inputs that may belong to different heads (the sentences of a batch at different NAR levels): one
 * evaluation per head of at most MAX_SEQUENCES inputs, in the order given. Resolves to each input's logits
 * ([outputs × head width], views). Each input's logits are those it gets evaluated alone — attention never crosses
 * sequences, and on the CPU every row of a product is computed the same way whatever else shares it — bit for bit
 * for F32, F16, BF16 and Q8_0 weights, to rounding for repacked ones (Q4_K, Q2_K) and on a GPU (see generateBatch).
 */
export async function forwardEach(
  context: Evaluator,
  inputs: readonly AssembledInput[],
  options: { signal?: AbortSignal | undefined },
): Promise<Float32Array[]> {
  const out = new Array<Float32Array>(inputs.length);
  const byHead = new Map<string, number[]>();
  inputs.forEach((input, i) => {
    const key = `${input.head.start}:${input.head.end}`;
    const group = byHead.get(key);
    if (group) group.push(i);
    else byHead.set(key, [i]);
  });
  for (const group of byHead.values()) {
    for (let first = 0; first < group.length; first += MAX_SEQUENCES) {
      const chunk = group.slice(first, first + MAX_SEQUENCES);
      const logits = await context.forward(
        chunk.map((i) => inputs[i] as AssembledInput),
        options,
      );
      let offset = 0;
      for (const i of chunk) {
        const input = inputs[i] as AssembledInput;
        const size = input.outputs * (input.head.end - input.head.start);
        out[i] = logits.subarray(offset, offset + size);
        offset += size;
      }
    }
  }
  return out;
}
