/**
 * Input assembly (`vall_e/models/base.py` `Base.inputs`, `inputs_to_embeddings`, `inputs_to_position_ids`): from
 * phonemes, language, task, RVQ level, prompt and response codes to the rows each token sums, the position ids, the
 * mask kind, the rows whose logits are wanted and the head — the Python reference's rules (not the seed port's): prompt
 * levels 0 … L−1 summed for NAR level L, response level l embedded with table NAR:l:l+1, positions restarting at 0 per
 * segment with the separator taking the next index, the output segment without a separator, a mask causal by sequence
 * index for AR and len.
 */
import { InvalidArgumentError, invalid } from "@vall-e/core";
import {
  CODEBOOK_SIZE,
  KNOWN_LAYOUT,
  LANGUAGES,
  type Language,
  type RowRange,
  RVQ_LEVELS,
  TASKS,
  type Task,
} from "../model/layout.js";

export type Mode = "ar" | "len" | "nar" | "nar-len" | "stt";
export const MODES: readonly Mode[] = ["ar", "len", "nar", "nar-len", "stt"];

/** Levels of the speech an stt input embeds: level 0 from AR:0:0, 1 … 6 from NAR:l:l+1; level 7 is not used. */
export const STT_LEVELS = 7;

/** How the model was trained, where checkpoints (or the seed port) differ: named options, reference defaults. */
export interface ModelProfile {
  /** FFN activation: exact GELU (reference) or SiLU (llama.cpp). */
  activation: "gelu" | "silu";
  /** Position ids restart per segment (reference) or run 0 … N−1. */
  positions: "per-segment" | "unified";
  /** Attention of NAR and NAR-len passes: full (reference checkpoints with noncausal_masks) or causal. */
  narAttention: "non-causal" | "causal";
  /**
   * Per-head classifier biases (the reference's `classifiers_bias`): "apply" adds those the file holds (tensor
   * `vall_e.output_bias`; published GGUFs have none), "ignore" leaves them out.
   */
  headBiases: "apply" | "ignore";
}

export const REFERENCE_PROFILE: ModelProfile = {
  activation: "gelu",
  positions: "per-segment",
  narAttention: "non-causal",
  headBiases: "apply",
};

export interface InputSpec {
  mode: Mode;
  /** Phoneme token ids including <bos> (1) and </eos> (2). */
  phonemes: readonly number[];
  lang: Language;
  /** Target RVQ level: 0 for ar, len and nar-len; 1 … 7 for nar. */
  rvqLevel: number;
  /** Prompt codes, levels × frames (at least the levels the mode uses); empty or absent: no prompt segment. */
  prompt?: readonly (readonly number[])[];
  /**
   * A task token opening the prompt segment — the composite prompt `[task, codes]` of ns and sr (`vall_e/inference.py`
   * `TTS.inference`), embedded from the task rows; absent for tts.
   */
  promptTask?: Task;
  /**
   * Response codes, levels × frames: ar — level 0 so far; nar — levels 0 … L−1; nar-len — level 0 with 1024 = mask;
   * stt — the speech to transcribe (at least 7 levels).
   */
  response?: readonly (readonly number[])[];
  /** len: the digits so far, starting with 0. */
  len?: readonly number[];
}

export interface AssembledInput {
  /** Per token, the embedding rows it sums. */
  rows: number[][];
  positions: number[];
  causal: boolean;
  /** Logits are wanted for the last `outputs` tokens. */
  outputs: number;
  /** The head (rows of the output matrix) the mode samples from. */
  head: HeadRange;
  /** Index of the first token of the output segment (the response, or the len digits): rows.length when empty. */
  outputStart?: number;
}

/** A classifier head: its name in the reference ("AR:0:0", "NAR:2:3", "NAR:0:0", "len") and its output rows. */
export interface HeadRange extends RowRange {
  name: string;
}

interface Segment {
  rows: number[][];
  output?: boolean;
}

function codes(
  spec: InputSpec,
  which: "prompt" | "response",
  levels: number,
  frames?: number,
): readonly (readonly number[])[] {
  const table = spec[which] ?? [];
  if (levels > 0 && table.length < levels) {
    throw invalid(
      `${levels} level(s) of ${which} codes for ${spec.mode} at level ${spec.rvqLevel}`,
      which,
      table.length,
    );
  }
  const length = table[0]?.length ?? 0;
  for (let l = 0; l < levels; l++) {
    const row = table[l] as readonly number[];
    if (row.length !== (frames ?? length))
      throw invalid(`${frames ?? length} frames at every level`, `${which}[${l}]`, row.length);
  }
  return table;
}

function codeRows(
  table: readonly (readonly number[])[],
  levels: number,
  ranges: readonly RowRange[],
  which: string,
  max: number,
): number[][] {
  const frames = table[0]?.length ?? 0;
  const out: number[][] = [];
  for (let t = 0; t < frames; t++) {
    const rows: number[] = [];
    for (let l = 0; l < levels; l++) {
      const code = (table[l] as readonly number[])[t] as number;
      if (!Number.isInteger(code) || code < 0 || code > max)
        throw invalid(`codes from 0 to ${max}`, `${which}[${l}][${t}]`, code);
      rows.push((ranges[l] as RowRange).start + code);
    }
    out.push(rows);
  }
  return out;
}

/**
 * Segments into one sequence (`vall_e/models/base.py` `inputs_to_embeddings` and `inputs_to_position_ids`): a
 * separator between consecutive segments; positions restarting at 0 per segment, the separator taking the next index,
 * the output segment without one (or 0 … N−1 under the unified profile).
 */
function joinSegments(
  segments: readonly Segment[],
  profile: ModelProfile,
): { rows: number[][]; positions: number[]; outputStart: number } {
  const rows: number[][] = [];
  const positions: number[] = [];
  let outputStart = 0;
  segments.forEach((segment, i) => {
    if (segment.output) outputStart = rows.length;
    segment.rows.forEach((tokenRows, p) => {
      rows.push(tokenRows);
      positions.push(p);
    });
    if (i < segments.length - 1) {
      rows.push([KNOWN_LAYOUT.sep.start]);
      positions.push(segment.rows.length);
    }
  });
  if (profile.positions === "unified") for (let i = 0; i < positions.length; i++) positions[i] = i;
  return { rows, positions, outputStart };
}

/**
 * Assemble one sequence (`vall_e/models/base.py` `Base.inputs`). `cfgNull`: the classifier-free guidance null input
 * (text [1, 2], no prompt).
 */
export function assembleInput(
  spec: InputSpec,
  profile: ModelProfile = REFERENCE_PROFILE,
  options: { cfgNull?: boolean } = {},
): AssembledInput {
  const layout = KNOWN_LAYOUT;
  if (!MODES.includes(spec.mode)) throw invalid(`one of ${MODES.map((m) => `"${m}"`).join(", ")}`, "mode", spec.mode);
  const language = LANGUAGES.indexOf(spec.lang);
  if (language < 0) throw invalid(`one of ${LANGUAGES.map((l) => `"${l}"`).join(", ")}`, "lang", spec.lang);
  const level = spec.rvqLevel;
  const maxLevel = spec.mode === "nar" ? RVQ_LEVELS - 1 : 0;
  const minLevel = spec.mode === "nar" ? 1 : 0;
  if (!Number.isInteger(level) || level < minLevel || level > maxLevel) {
    throw invalid(`an RVQ level from ${minLevel} to ${maxLevel} for ${spec.mode}`, "rvqLevel", level);
  }
  if (spec.mode === "stt") return assembleStt(spec, profile, options, language);
  const phonemes = options.cfgNull ? [1, 2] : spec.phonemes;
  if (!Array.isArray(phonemes) || phonemes.length < 2)
    throw invalid("phoneme ids including <bos> and </eos>", "phonemes", phonemes);
  phonemes.forEach((id, i) => {
    if (!Number.isInteger(id) || id < layout.text.start || id >= layout.text.end) {
      throw invalid(`phoneme ids from 0 to ${layout.text.end - 1}`, `phonemes[${i}]`, id);
    }
  });

  const segments: Segment[] = [
    { rows: phonemes.map((id) => [id]) },
    { rows: [[layout.lang.start + language]] },
    { rows: [[layout.rvqLevel.start + level]] },
  ];
  // The prompt: level 0 for L = 0, levels 0 … L−1 summed for NAR level L (the Python rule; the seed sums 0 … L).
  const promptLevels = Math.max(1, level);
  const prompt = options.cfgNull ? [] : codes(spec, "prompt", 0);
  const hasPrompt = prompt.length > 0 && (prompt[0]?.length ?? 0) > 0;
  if (spec.promptTask !== undefined && !options.cfgNull) {
    const task = TASKS.indexOf(spec.promptTask);
    if (task < 0) throw invalid(`one of ${TASKS.map((t) => `"${t}"`).join(", ")}`, "promptTask", spec.promptTask);
    if (!hasPrompt) {
      throw new InvalidArgumentError(`The ${spec.promptTask} task token needs prompt codes after it; none were given`);
    }
    codes(spec, "prompt", promptLevels);
    const taskRow = [layout.task.start + task];
    segments.push({ rows: [taskRow, ...codeRows(prompt, promptLevels, layout.prom, "prompt", CODEBOOK_SIZE - 1)] });
  } else if (hasPrompt) {
    codes(spec, "prompt", promptLevels);
    segments.push({ rows: codeRows(prompt, promptLevels, layout.prom, "prompt", CODEBOOK_SIZE - 1) });
  }

  let head: HeadRange;
  let outputs: number;
  switch (spec.mode) {
    case "ar": {
      const response = spec.response?.[0] ?? [];
      segments.push({ rows: codeRows([response], 1, [layout.ar], "response", CODEBOOK_SIZE), output: true });
      head = { name: "AR:0:0", ...layout.ar };
      outputs = 1;
      break;
    }
    case "len": {
      const digits = spec.len ?? [0];
      digits.forEach((d, i) => {
        if (!Number.isInteger(d) || d < 0 || d > 10) throw invalid("len digits from 0 to 10", `len[${i}]`, d);
      });
      if (digits.length === 0) throw invalid("at least the leading 0", "len", digits);
      segments.push({ rows: digits.map((d) => [layout.len.start + d]), output: true });
      head = { name: "len", ...layout.len };
      outputs = 1;
      break;
    }
    case "nar-len": {
      const response = codes(spec, "response", 1);
      const rows = codeRows(response, 1, [layout.narLen], "response", CODEBOOK_SIZE);
      if (rows.length === 0) throw invalid("at least one response frame", "response", rows.length);
      segments.push({ rows, output: true });
      head = { name: "NAR:0:0", start: layout.narLen.start, end: layout.narLen.start + CODEBOOK_SIZE }; // the mask row is untrained
      outputs = rows.length;
      break;
    }
    case "nar": {
      // NAR level L: response levels 0 … L−1, level l through table NAR:l:l+1.
      const response = codes(spec, "response", level);
      const rows = codeRows(response, level, layout.nar, "response", CODEBOOK_SIZE - 1);
      if (rows.length === 0) throw invalid("at least one response frame", "response", rows.length);
      segments.push({ rows, output: true });
      head = { name: `NAR:${level - 1}:${level}`, ...(layout.nar[level - 1] as RowRange) };
      outputs = rows.length;
      break;
    }
    default: {
      const unknown: never = spec.mode;
      throw invalid(`one of ${MODES.map((m) => `"${m}"`).join(", ")}`, "mode", unknown);
    }
  }

  const { rows, positions, outputStart } = joinSegments(segments, profile);
  const causal = spec.mode === "ar" || spec.mode === "len" || profile.narAttention === "causal";
  return { rows, positions, causal, outputs, head, outputStart };
}

/**
 * Speech to phonemes (`vall_e/models/base.py` `Base.inputs` for the stt task): `resp` · `lang` · `rvq(0)` · `phn`, the
 * speech embedded as level 0 from AR:0:0 plus levels 1 … 6 from NAR:l:l+1 (level 7 unused,
 * `summed_embeddings_task`), the phonemes generated so far (starting with <bos>) as the output segment, causal, over
 * the text head (classifier proj.9: rows 0 … 255). At HEAD the reference labels this head "phn", which skips the
 * projection (`Classifiers.forward`); this is the head it intends.
 */
function assembleStt(
  spec: InputSpec,
  profile: ModelProfile,
  options: { cfgNull?: boolean },
  language: number,
): AssembledInput {
  const layout = KNOWN_LAYOUT;
  if (options.cfgNull) throw new InvalidArgumentError("The stt mode has no classifier-free guidance input");
  if (spec.rvqLevel !== 0) throw invalid("an RVQ level of 0 for stt", "rvqLevel", spec.rvqLevel);
  const speech = codes(spec, "response", STT_LEVELS);
  const frames = speech[0]?.length ?? 0;
  if (frames === 0) throw invalid("at least one frame of speech", "response", frames);
  const phonemes = spec.phonemes;
  if (!Array.isArray(phonemes) || phonemes.length < 1 || phonemes[0] !== 1) {
    throw invalid("the phoneme ids generated so far, starting with <bos> (1)", "phonemes", phonemes);
  }
  phonemes.forEach((id, i) => {
    if (!Number.isInteger(id) || id < layout.text.start || id >= layout.text.end) {
      throw invalid(`phoneme ids from 0 to ${layout.text.end - 1}`, `phonemes[${i}]`, id);
    }
  });
  const tables = [layout.ar, ...layout.nar.slice(1, STT_LEVELS)] as RowRange[];
  const resp = codeRows(speech, STT_LEVELS, tables, "response", CODEBOOK_SIZE - 1);
  const segments: Segment[] = [
    { rows: resp },
    { rows: [[layout.lang.start + language]] },
    { rows: [[layout.rvqLevel.start]] },
    { rows: phonemes.map((id) => [id]), output: true },
  ];
  const { rows, positions, outputStart } = joinSegments(segments, profile);
  return { rows, positions, causal: true, outputs: 1, head: { name: "stt", ...layout.text }, outputStart };
}

/**
 * The token that follows an AR input in the KV cache: response code `code` at the next response position, with
 * `appended` tokens already appended after `input` (the prefill). O(1): nothing is re-assembled. Trusts its
 * arguments — `input` is assembleInput's for mode "ar" and `code` a token sampled from its head (0 … 1023).
 */
export function nextArToken(
  input: AssembledInput,
  appended: number,
  code: number,
  profile: ModelProfile = REFERENCE_PROFILE,
): { rows: number[]; position: number } {
  return nextOutputToken(input, appended, [KNOWN_LAYOUT.ar.start + code], profile);
}

/** The next token of a causal input's output segment (AR codes, stt phonemes): its rows as given, its position. */
export function nextOutputToken(
  input: AssembledInput,
  appended: number,
  rows: number[],
  profile: ModelProfile = REFERENCE_PROFILE,
): { rows: number[]; position: number } {
  const start = input.outputStart ?? input.rows.length;
  const index = input.rows.length - start + appended; // index within the output segment
  return { rows, position: profile.positions === "unified" ? start + index : index };
}

/** The native sequence form (rows as offsets + ids). */
export function toSequence(input: AssembledInput): {
  rowOffsets: Int32Array;
  rowIds: Int32Array;
  positions: Int32Array;
  causal: boolean;
  outputs: number;
} {
  const rowOffsets = new Int32Array(input.rows.length + 1);
  const ids: number[] = [];
  input.rows.forEach((rows, i) => {
    ids.push(...rows);
    rowOffsets[i + 1] = ids.length;
  });
  return {
    rowOffsets,
    rowIds: Int32Array.from(ids),
    positions: Int32Array.from(input.positions),
    causal: input.causal,
    outputs: input.outputs,
  };
}
