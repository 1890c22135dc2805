/**
 * The 17702 token names of the VALL-E export (`vall_e/export.py` `convert_to_hf_llama`): phoneme strings for the text
 * range, then the special names the layout is recovered from. Used to write test models in exactly the published
 * layout.
 */
import { CODEBOOK_SIZE, KNOWN_LAYOUT, LANGUAGES, RVQ_LEVELS, TASKS } from "./layout.js";

/** `text`: the 256 phoneme-range strings (default: <unk>, <bos>, </eos>, <mask>, then placeholders). */
export function exportTokenNames(text?: readonly string[]): string[] {
  const names: string[] = [];
  for (let id = 0; id < KNOWN_LAYOUT.text.end; id++)
    names.push(text?.[id] ?? ["<unk>", "<bos>", "</eos>", "<mask>"][id] ?? `<text:${id}>`);
  for (let l = 0; l < RVQ_LEVELS; l++) names.push(`<|RVQ:${l}|>`);
  for (const lang of LANGUAGES) names.push(`<|lang:${lang}|>`);
  for (const task of TASKS) names.push(`<|task:${task}|>`);
  for (let d = 0; d <= 10; d++) names.push(`<|len:${d}|>`);
  names.push("<|tone:neutral|>", "<|sep|>");
  for (let l = 0; l < RVQ_LEVELS; l++) for (let c = 0; c < CODEBOOK_SIZE; c++) names.push(`<|P|${l}|${c}|>`);
  for (let c = 0; c <= CODEBOOK_SIZE; c++) names.push(`<|R|AR|0:0|${c}|>`);
  for (let level = 1; level < RVQ_LEVELS; level++)
    for (let c = 0; c < CODEBOOK_SIZE; c++) names.push(`<|R|NAR|${level - 1}:${level}|${c}|>`);
  for (let c = 0; c <= CODEBOOK_SIZE; c++) names.push(`<|R|NAR|0:0|${c}|>`);
  return names;
}
