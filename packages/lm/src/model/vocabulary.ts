/**
 * Recovering the unified layout from a GGUF's vocabulary (the names `vall_e/export.py` `convert_to_hf_llama` writes):
 * the export's token names say which rows are which segment, so a file is checked against the known layout instead of
 * trusting hard-coded numbers.
 */
import { VallEError } from "@vall-e/core";
import { CODEBOOK_SIZE, KNOWN_LAYOUT, LANGUAGES, type RowRange, RVQ_LEVELS, TASKS } from "./layout.js";

export type Layout = typeof KNOWN_LAYOUT;

const PATTERNS: [string, RegExp][] = [
  ["rvqLevel", /^<\|RVQ:(\d+)\|>$/],
  ["lang", /^<\|lang:(\w+)\|>$/],
  ["task", /^<\|task:([\w-]+)\|>$/],
  ["len", /^<\|len:(\d+)\|>$/],
  ["tone", /^<\|tone:(\w+)\|>$/],
  ["sep", /^<\|sep\|>$/],
];

/**
 * The row ranges of a VALL-E vocabulary, checked against the known layout (the export's order and sizes). A
 * vocabulary without the export's names is an error naming what is missing.
 */
export function recoverLayout(tokens: readonly string[], source = "model"): Layout {
  const groups = new Map<string, number[]>();
  const add = (group: string, id: number) => {
    const list = groups.get(group) ?? [];
    list.push(id);
    groups.set(group, list);
  };
  tokens.forEach((token, id) => {
    for (const [group, pattern] of PATTERNS) if (pattern.test(token)) add(group, id);
    let m = /^<\|P\|(\d)\|(\d+)\|>$/.exec(token);
    if (m) add(`prom${m[1]}`, id);
    m = /^<\|R\|AR\|0:0\|(\d+)\|>$/.exec(token);
    if (m) add("ar", id);
    m = /^<\|R\|NAR\|(\d):(\d)\|(\d+)\|>$/.exec(token);
    if (m) add(m[1] === "0" && m[2] === "0" ? "narLen" : `nar${m[2]}`, id);
  });
  const range = (group: string): RowRange => {
    const ids = groups.get(group);
    if (!ids || ids.length === 0) {
      throw new VallEError(
        "ERR_MODEL_FORMAT",
        `${source}: the vocabulary has no ${group} tokens — not a VALL-E export (expected names such as <|RVQ:0|>, <|P|0|17|>, <|R|AR|0:0|1024|>)`,
      );
    }
    const start = Math.min(...ids);
    const end = Math.max(...ids) + 1;
    if (end - start !== ids.length)
      throw new VallEError("ERR_MODEL_FORMAT", `${source}: the ${group} tokens are not contiguous`);
    return { start, end };
  };
  const layout = {
    text: { start: 0, end: range("rvqLevel").start },
    rvqLevel: range("rvqLevel"),
    lang: range("lang"),
    task: range("task"),
    len: range("len"),
    tone: range("tone"),
    sep: range("sep"),
    prom: Array.from({ length: RVQ_LEVELS }, (_, level) => range(`prom${level}`)),
    ar: range("ar"),
    nar: Array.from({ length: RVQ_LEVELS - 1 }, (_, index) => range(`nar${index + 1}`)),
    narLen: range("narLen"),
    vocabularySize: tokens.length,
  };
  // The recovered ranges must be the export's: same sizes, same order (`vall_e/export.py` `convert_to_hf_llama`).
  const same = JSON.stringify(layout) === JSON.stringify(KNOWN_LAYOUT);
  if (!same) {
    throw new VallEError(
      "ERR_MODEL_FORMAT",
      `${source}: its vocabulary layout differs from the VALL-E export's (${LANGUAGES.length} languages, ${TASKS.length} tasks, ${CODEBOOK_SIZE}-code levels, 17702 rows): ${JSON.stringify(layout)}`,
    );
  }
  return KNOWN_LAYOUT;
}
