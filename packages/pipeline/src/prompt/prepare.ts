/**
 * Prompt preparation (`vall_e/inference.py` `TTS.encode_audio` with `vall_e/emb/qnt.py` `repeat_extend_audio`): the
 * references' codes concatenated in time, then — for a positive length in seconds — repeated whole until they reach
 * ⌊75 · seconds⌋ frames and cut to the first that many. Shorter prompts loop, longer ones keep their start. No
 * reference: no prompt.
 */
import { FRAME_RATE, invalid, REQUEST_SETTINGS } from "@vall-e/core";

/** Codes of one reference: levels × frames (every level the same length). */
export type PromptCodes = readonly (readonly number[])[];

/** Code frames per second (EnCodec's 75 Hz). */
export const PROMPT_FRAME_RATE = FRAME_RATE;

export function preparePrompt(references: readonly PromptCodes[], seconds: number): number[][] {
  if (!Array.isArray(references)) throw invalid("an array of codes (levels × frames)", "references", references);
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
    throw invalid(REQUEST_SETTINGS.promptSeconds.domain, "promptSeconds", seconds);
  }
  if (references.length === 0) return [];
  const levels = references[0]?.length ?? 0;
  references.forEach((reference, r) => {
    if (reference.length !== levels) {
      throw invalid(`${levels} codebooks like references[0]`, `references[${r}]`, `${reference.length} codebooks`);
    }
    const frames = reference[0]?.length ?? 0;
    reference.forEach((level: readonly number[], l: number) => {
      if (level.length !== frames)
        throw invalid(`${frames} frames at every level`, `references[${r}][${l}]`, level.length);
    });
  });
  const joined = Array.from({ length: levels }, (_, l) => references.flatMap((reference) => [...(reference[l] ?? [])]));
  const total = joined[0]?.length ?? 0;
  const target = Math.floor(PROMPT_FRAME_RATE * seconds);
  if (target <= 0 || total === 0) return joined;
  return joined.map((level) => Array.from({ length: target }, (_, t) => level[t % total] as number));
}
