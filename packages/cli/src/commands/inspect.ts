/**
 * `vall-e inspect <file> [--json]`: what a file is and what it holds — WAV audio (rate, channels, duration, levels),
 * codes (.npy/.json/.enc: shape, duration, per-codebook code statistics) and their .npy.json sidecars, logits and
 * other .npy arrays (dtype, shape, value statistics), a phoneme artifact, a run.json, a tokenizer.json, a VALL-E GGUF
 * (loaded and validated), or EnCodec / Vocos weights (validated). A file that is none of these, or an invalid one, is
 * one usage error (exit 2) naming it and what was expected — never described.
 */
import { open } from "node:fs/promises";
import { basename, extname } from "node:path";
import {
  fileReadError,
  jsonErrorPosition,
  readRegularFile,
  statPathSync,
  statRegularFile,
  VallEError,
} from "@vall-e/core";
import { Command } from "commander";
import type { CommandContext } from "../context.js";

interface CodebookSummary {
  codebook: number;
  distinct: number;
  mostFrequent: { code: number; share: number };
  entropyBits: number;
}

export function summarizeCodebooks(codes: Int16Array, codebooks: number): CodebookSummary[] {
  const frames = codes.length / codebooks;
  return Array.from({ length: codebooks }, (_, q) => {
    const counts = new Map<number, number>();
    for (let t = 0; t < frames; t++) {
      const code = codes[q * frames + t] as number;
      counts.set(code, (counts.get(code) ?? 0) + 1);
    }
    let best = 0;
    let bestCount = -1;
    let entropy = 0;
    for (const [code, count] of counts) {
      if (count > bestCount || (count === bestCount && code < best)) {
        best = code;
        bestCount = count;
      }
      const p = count / frames;
      entropy -= p * Math.log2(p);
    }
    return {
      codebook: q,
      distinct: counts.size,
      mostFrequent: { code: best, share: bestCount / frames },
      entropyBits: entropy,
    };
  });
}

/** Error codes that say a file is not a valid instance of its kind: inspect reports them as usage errors (exit 2). */
const INVALID_FILE_CODES = new Set([
  "ERR_ARTIFACT_FORMAT",
  "ERR_AUDIO_FORMAT",
  "ERR_CODEC_FORMAT",
  "ERR_CODES_FORMAT",
  "ERR_MODEL_FORMAT",
  "ERR_MODEL_NUMERICS",
  "ERR_REPLAY",
  "ERR_TOKENIZER_FORMAT",
]);

/**
 * A file that is not what it claims (or not a vall-e artifact at all) as one usage error (exit 2) naming it. Read
 * failures (permissions, I/O) and cancellation stay what they are.
 */
function asInvalidFile(error: unknown, path: string): unknown {
  if (!(error instanceof Error) || error.name === "AbortError") return error;
  const code = (error as { code?: unknown }).code;
  // A reader's verdict on the file (its typed errors, a JSON syntax error) — not an internal bug (a TypeError keeps
  // its own exit code).
  const invalid = error instanceof VallEError ? INVALID_FILE_CODES.has(String(code)) : error instanceof SyntaxError;
  if (!invalid) return error;
  const message = error.message.includes(path) ? error.message : `${path}: ${error.message}`;
  return new VallEError("ERR_USAGE", message, { cause: error });
}

/** The largest file read whole to describe it (weights are read by their own loaders, with their own bounds). */
const MAX_INSPECTED_BYTES = 2 ** 30;
const MAX_JSON_BYTES = 256 * 2 ** 20;
const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
const WHAT_INSPECT_READS =
  "WAV audio, codes (.npy/.json/.enc) and their .npy.json sidecars, other .npy arrays (logits), .phonemes.json, run.json, tokenizer.json, a VALL-E GGUF, EnCodec or Vocos weights";

async function sniff(path: string): Promise<Buffer> {
  try {
    const file = await open(path, "r");
    try {
      const head = Buffer.alloc(8);
      const { bytesRead } = await file.read(head, 0, 8, 0);
      return head.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  } catch (error) {
    throw fileReadError("File", path, error);
  }
}

/**
 * What `path` is and holds, as inspect prints it. A file that is not a vall-e artifact, or an invalid one, is a usage
 * error (ERR_USAGE, exit 2) naming the file and what was expected — never described.
 */
export async function inspectFile(path: string): Promise<Record<string, unknown>> {
  try {
    return await describeFile(path);
  } catch (error) {
    throw asInvalidFile(error, path);
  }
}

async function describeFile(path: string): Promise<Record<string, unknown>> {
  // A regular file (a FIFO would block the read below, a folder is no artifact); each reader bounds its size.
  await statRegularFile(path, "File", Number.MAX_SAFE_INTEGER);
  const head = await sniff(path);
  const magic = head.subarray(0, 4).toString("latin1");
  const extension = extname(path).toLowerCase();
  if (magic === "RIFF") {
    const { readWav } = await import("@vall-e/codec");
    const audio = await readWav(path);
    const samples = audio.channels[0]?.length ?? 0;
    return {
      kind: "audio",
      format: "wav",
      encoding: audio.encoding,
      sampleRate: audio.sampleRate,
      channels: audio.channels.length,
      samples,
      durationSeconds: samples / audio.sampleRate,
      levels: audio.channels.map((channel) => {
        let peak = 0;
        let energy = 0;
        for (const value of channel) {
          peak = Math.max(peak, Math.abs(value));
          energy += value * value;
        }
        return { peak, rms: Math.sqrt(energy / Math.max(1, channel.length)) };
      }),
    };
  }
  if (magic === "GGUF") {
    // Loaded for real (every tensor validated natively): an invalid model is an error here, not a description.
    const { LanguageModel } = await import("@vall-e/lm");
    const { GGML_TYPES } = await import("@vall-e/native");
    await using model = await LanguageModel.load(path);
    const info = model.info;
    const type = Object.entries(GGML_TYPES).find(([, id]) => id === info.weightType)?.[0] ?? String(info.weightType);
    return {
      kind: "gguf",
      format: "VALL-E GGUF (llama architecture)",
      layers: info.nLayer,
      width: info.nEmbd,
      heads: info.nHead,
      kvHeads: info.nHeadKv,
      feedForward: info.nFf,
      vocabulary: info.nVocab,
      contextTrained: info.nCtxTrain,
      weightType: type,
      outputBiases: info.hasOutputBias,
      fileBytes: info.fileBytes,
      weightBytes: info.weightBytes,
    };
  }
  if (head.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])) || extension === ".safetensors") {
    // A PyTorch zip or safetensors: Vocos' state dict (the only such checkpoint vall-e reads), checked completely.
    const { readVocosWeights } = await import("@vall-e/codec");
    const weights = await readVocosWeights(path);
    return {
      kind: "vocos-weights",
      format: extension === ".safetensors" ? "safetensors" : "PyTorch state dict (zip)",
      config: weights.config,
      tensors: weights.tensors.length,
      parameters: weights.tensors.reduce((sum, tensor) => sum + tensor.data.length, 0),
    };
  }
  if (head.length >= 4 && head.readUInt32LE(0) === 0x67676d6c) {
    const { Codec, parseEncodecBin } = await import("@vall-e/codec");
    const bin = parseEncodecBin(await readRegularFile(path, "EnCodec weights", MAX_INSPECTED_BYTES), path);
    // Loaded natively too, which checks every tensor against the model's layout: a file with tensors missing or of
    // the wrong shape is an error, not EnCodec weights.
    await using _loaded = await Codec.load(path, { threads: 1 });
    for (const [name, tensor] of bin.tensors) {
      const bad = tensor.data.findIndex((value) => !Number.isFinite(value));
      if (bad >= 0) {
        throw new VallEError(
          "ERR_USAGE",
          `${path}: tensor '${name}' holds a non-finite value (${tensor.data[bad]} at index ${bad}): damaged EnCodec weights`,
        );
      }
    }
    const tensors = [...bin.tensors.values()];
    return {
      kind: "encodec-weights",
      format: "encodec.cpp ggml",
      header: bin.header,
      tensors: tensors.length,
      halfTensors: tensors.filter((tensor) => tensor.ftype === 1).length,
      parameters: tensors.reduce((sum, tensor) => sum + tensor.data.length, 0),
    };
  }
  if (extension === ".enc") return describeCodes(path);
  if (extension === ".npy" || head.subarray(0, 6).equals(NPY_MAGIC)) return describeNpy(path);
  if (extension === ".json") return describeJson(path);
  throw new VallEError("ERR_USAGE", `${path}: not a file vall-e inspects (${WHAT_INSPECT_READS})`);
}

async function describeCodes(path: string): Promise<Record<string, unknown>> {
  const { readCodes } = await import("@vall-e/codec");
  const codes = await readCodes(path, { maxFrames: Number.MAX_SAFE_INTEGER });
  const { codes: data, ...meta } = codes;
  return {
    kind: "codes",
    ...meta,
    durationSeconds: codes.frames / codes.frameRate,
    codebookStats: summarizeCodebooks(data, codes.codebooks),
  };
}

/** Summary statistics of numeric values: min / max / mean of the finite ones, and how many are NaN or ±Inf. */
function valueStats(values: ArrayLike<number>): {
  min: number | null;
  max: number | null;
  mean: number | null;
  nan: number;
  inf: number;
} {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  let finite = 0;
  let nan = 0;
  let inf = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (Number.isNaN(value)) nan++;
    else if (!Number.isFinite(value)) inf++;
    else {
      finite++;
      sum += value;
      if (value < min) min = value;
      if (value > max) max = value;
    }
  }
  return finite === 0 ? { min: null, max: null, mean: null, nan, inf } : { min, max, mean: sum / finite, nan, inf };
}

const DTYPE_NAMES: Record<string, string> = {
  "<i2": "int16",
  "<u2": "uint16",
  "<i4": "int32",
  "<i8": "int64",
  "<f4": "float32",
  "<f8": "float64",
  "|i1": "int8",
  "|u1": "uint8",
};
/** Rows whose argmax a logits report lists. */
const ARGMAX_ROWS = 8;

/**
 * A .npy: codes when its .npy.json sidecar is beside it or it reads as codes (integers in [codebooks, frames]);
 * float32 [rows, columns] is logits (`vall-e lm forward`, or a --dump-hidden intermediate); anything else numeric is
 * a plain array, described by its dtype, shape and values.
 */
async function describeNpy(path: string): Promise<Record<string, unknown>> {
  const { CodesFormatError, MAX_CODES_FILE_BYTES, parseNpy } = await import("@vall-e/codec");
  const bytes = await readRegularFile(path, ".npy file", MAX_INSPECTED_BYTES);
  const array = parseNpy(bytes, path);
  if (statPathSync(`${path}.json`) !== undefined) return describeCodes(path); // its sidecar says it is codes
  const codesShaped = array.shape.length === 2 || (array.shape.length === 3 && array.shape[0] === 1);
  if (!array.dtype.includes("f") && codesShaped && bytes.length <= MAX_CODES_FILE_BYTES) {
    try {
      return await describeCodes(path);
    } catch (error) {
      if (!(error instanceof CodesFormatError)) throw error; // integers, but not codes: a plain array
    }
  }
  const stats = valueStats(array.data);
  const dtype = DTYPE_NAMES[array.dtype] ?? array.dtype;
  if (array.dtype === "<f4" && array.shape.length === 2) {
    const [rows, columns] = array.shape as [number, number];
    const argmax = Array.from({ length: Math.min(rows, ARGMAX_ROWS) }, (_, row) => {
      let index: number | null = null;
      let best = Number.NEGATIVE_INFINITY;
      for (let column = 0; column < columns; column++) {
        const value = array.data[row * columns + column] as number;
        if (value > best || (index === null && value === best)) {
          best = value;
          index = column;
        }
      }
      return { row, index, value: index === null ? null : best };
    });
    return { kind: "logits", format: "npy", dtype, shape: array.shape, rows, columns, ...stats, argmax };
  }
  return { kind: "array", format: "npy", dtype, shape: array.shape, values: array.data.length, ...stats };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * A .json: told apart by its name (x.npy.json, run.json, x.phonemes.json, tokenizer.json), else by what it holds
 * (its "format", a "codes" array, a tokenizer's "model"); each kind is read by its own loader.
 */
async function describeJson(path: string): Promise<Record<string, unknown>> {
  const name = basename(path).toLowerCase();
  if (name.endsWith(".npy.json")) return describeSidecar(path);
  if (name.endsWith("run.json")) return describeRun(path);
  if (name.endsWith(".phonemes.json")) return describePhonemes(path);
  if (name.endsWith("tokenizer.json")) return describeTokenizer(path);
  const text = (await readRegularFile(path, "JSON file", MAX_JSON_BYTES)).toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new VallEError(
      "ERR_USAGE",
      `${path} is not JSON${jsonErrorPosition(error)}: expected a vall-e JSON artifact (codes, phonemes, run.json, tokenizer.json)`,
      { cause: error },
    );
  }
  const format = isObject(value) ? value.format : undefined;
  if (format === "vall-e.run/1") return describeRun(path);
  if (typeof format === "string" && format.startsWith("vall-e.phonemes/")) return describePhonemes(path);
  if ((typeof format === "string" && format.startsWith("vall-e.codes/")) || (isObject(value) && "codes" in value))
    return describeCodes(path);
  if (isObject(value) && isObject(value.model)) return describeTokenizer(path);
  throw new VallEError(
    "ERR_USAGE",
    `${path}: not a vall-e artifact — JSON that is no codes (format vall-e.codes/1), phoneme artifact, run.json or tokenizer.json (${format === undefined ? 'it has no "format"' : `its "format" is ${JSON.stringify(format)}`})`,
  );
}

async function describeRun(path: string): Promise<Record<string, unknown>> {
  const { readRunManifest } = await import("@vall-e/pipeline");
  const run = await readRunManifest(path);
  return { kind: "run", ...run };
}

async function describePhonemes(path: string): Promise<Record<string, unknown>> {
  const { readPhonemeArtifact } = await import("@vall-e/phonemizer");
  await statRegularFile(path, "Phoneme artifact", MAX_JSON_BYTES);
  const artifact = await readPhonemeArtifact(path);
  return { kind: "phonemes", ...artifact, tokenCount: artifact.tokens.length };
}

/** A tokenizer.json, loaded (and so checked) by the phonemizer's loader; its counts from the file. */
async function describeTokenizer(path: string): Promise<Record<string, unknown>> {
  const { loadTokenizer } = await import("@vall-e/phonemizer");
  const tokenizer = await loadTokenizer(path);
  const root = JSON.parse((await readRegularFile(path, "Tokenizer file", MAX_JSON_BYTES)).toString("utf8"));
  const model = root.model as { vocab: Record<string, number>; merges: unknown[]; unk_token?: unknown };
  const added = Array.isArray(root.added_tokens) ? (root.added_tokens as Record<string, unknown>[]) : [];
  const specialTokens = added
    .filter((token) => token.special !== false)
    .map((token) => ({ id: token.id as number, content: token.content as string }));
  const ids = new Set(Object.values(model.vocab));
  return {
    kind: "tokenizer",
    format: "Hugging Face tokenizer.json (BPE)",
    vocabularySize: tokenizer.vocabularySize,
    vocabEntries: Object.keys(model.vocab).length,
    aliases: Object.keys(model.vocab).length - ids.size,
    merges: model.merges.length,
    specialTokens,
    ...(typeof model.unk_token === "string" ? { unknownToken: model.unk_token } : {}),
    fingerprint: tokenizer.fingerprint,
    ...(tokenizer.warnings.length > 0 ? { warnings: tokenizer.warnings } : {}),
  };
}

/**
 * A codes .npy's metadata sidecar (x.npy.json): what it describes, and whether x.npy is beside it and agrees with
 * it (read as the codes artifact the two make).
 */
async function describeSidecar(path: string): Promise<Record<string, unknown>> {
  const { CODES_ARTIFACT_FORMAT, CodesFormatError, readCodes } = await import("@vall-e/codec");
  const text = (await readRegularFile(path, "Codes sidecar", MAX_JSON_BYTES)).toString("utf8");
  let meta: unknown;
  try {
    meta = JSON.parse(text);
  } catch (error) {
    throw new VallEError("ERR_USAGE", `${path} is not JSON${jsonErrorPosition(error)}: not a codes sidecar`, {
      cause: error,
    });
  }
  if (!isObject(meta) || meta.format !== CODES_ARTIFACT_FORMAT) {
    throw new VallEError(
      "ERR_USAGE",
      `${path}: not a codes sidecar (expected a JSON object with "format": "${CODES_ARTIFACT_FORMAT}", found ${isObject(meta) ? (meta.format === undefined ? 'no "format"' : `"format": ${JSON.stringify(meta.format)}`) : "no object"})`,
    );
  }
  for (const key of ["codebooks", "frames"]) {
    if (meta[key] !== undefined && !(Number.isSafeInteger(meta[key]) && (meta[key] as number) > 0)) {
      throw new VallEError(
        "ERR_USAGE",
        `${path}: "${key}" must be a positive integer, got ${JSON.stringify(meta[key])}`,
      );
    }
  }
  const npyPath = path.slice(0, -".json".length);
  const npy: Record<string, unknown> = { path: npyPath, present: statPathSync(npyPath) !== undefined };
  if (npy.present) {
    try {
      const codes = await readCodes(npyPath, { maxFrames: Number.MAX_SAFE_INTEGER });
      Object.assign(npy, { matches: true, codebooks: codes.codebooks, frames: codes.frames });
    } catch (error) {
      if (!(error instanceof CodesFormatError)) throw error;
      Object.assign(npy, { matches: false, problem: error.message });
    }
  }
  const { format, ...described } = meta;
  return { kind: "codes-sidecar", format, ...described, npy };
}

/** A statistic as printed: integers as they are, other numbers to 6 significant digits. */
function formatValue(value: unknown): string {
  if (typeof value !== "number") return "n/a";
  return Number.isInteger(value) ? String(value) : value.toPrecision(6);
}

function formatInspection(report: Record<string, unknown>): string {
  const lines: string[] = [];
  if (report.kind === "codes") {
    lines.push(
      `codes: ${report.codebooks} codebooks × ${report.frames} frames (${(report.durationSeconds as number).toFixed(2)} s at ${report.frameRate} Hz)`,
    );
    if (report.source) lines.push(`source: ${JSON.stringify(report.source)}`);
    for (const key of ["text", "phonemes", "language"]) if (report[key]) lines.push(`${key}: ${report[key]}`);
    lines.push("codebook  distinct  most frequent (share)  entropy (bits)");
    for (const stats of report.codebookStats as CodebookSummary[]) {
      lines.push(
        `${String(stats.codebook).padStart(8)}  ${String(stats.distinct).padStart(8)}  ${String(stats.mostFrequent.code).padStart(13)} (${(stats.mostFrequent.share * 100).toFixed(1)}%)  ${stats.entropyBits.toFixed(2).padStart(14)}`,
      );
    }
  } else if (report.kind === "audio") {
    lines.push(
      `audio: WAV ${report.encoding}-bit, ${report.sampleRate} Hz, ${report.channels} channel(s), ${report.samples} samples (${(report.durationSeconds as number).toFixed(3)} s)`,
    );
    for (const [i, level] of (report.levels as { peak: number; rms: number }[]).entries()) {
      lines.push(`channel ${i}: peak ${level.peak.toFixed(4)}, rms ${level.rms.toFixed(4)}`);
    }
  } else if (report.kind === "gguf") {
    lines.push(
      `${report.format}: ${report.layers} layers, width ${report.width}, ${report.heads} heads (${report.kvHeads} KV), feed-forward ${report.feedForward}`,
      `vocabulary ${report.vocabulary}, trained context ${report.contextTrained}, weights ${report.weightType}${report.outputBiases ? ", per-head output biases" : ""}`,
      `${((report.fileBytes as number) / 1e6).toFixed(1)} MB on disk, ${((report.weightBytes as number) / 1e6).toFixed(1)} MB read per forward`,
    );
  } else if (report.kind === "vocos-weights") {
    const config = report.config as Record<string, number>;
    lines.push(
      `Vocos weights (${report.format}): ${report.tensors} tensors, ${report.parameters} values`,
      `backbone: ${config.layers} ConvNeXt blocks, width ${config.dim} (intermediate ${config.intermediateDim}), ${config.adanormEmbeddings} bandwidths; head: n_fft ${config.nFft}, hop ${config.hopLength}; ${config.codebooks} codebooks`,
    );
  } else if (report.kind === "run") {
    const models = report.models as Record<string, { path: string; sha256: string }>;
    const options = report.options as Record<string, unknown>;
    const sentences = report.sentences as { text: string; seed?: number; frames: number }[];
    lines.push(
      `run manifest: ${sentences.length} sentence(s), task ${options.task}, decoder ${options.decoder ?? "encodec"}, seed ${options.seed ?? "drawn"}`,
    );
    for (const [role, entry] of Object.entries(models))
      lines.push(`${role}: ${entry.path} (sha256 ${entry.sha256.slice(0, 12)}…)`);
    // Input files, as recorded (runs before they were recorded have none).
    const inputs = report.inputs as Record<string, unknown>;
    for (const [slot, value] of Object.entries((report.inputChecksums ?? {}) as Record<string, unknown>)) {
      const paths = [inputs[slot]].flat() as string[];
      for (const [i, sum] of ([value].flat() as ({ sha256: string } | null)[]).entries()) {
        if (sum) lines.push(`${slot}: ${paths[i]} (sha256 ${sum.sha256.slice(0, 12)}…)`);
      }
    }
    for (const [i, sentence] of sentences.entries()) {
      lines.push(
        `${i + 1}: ${sentence.frames} frames${sentence.seed === undefined ? "" : `, seed ${sentence.seed}`}: ${sentence.text}`,
      );
    }
  } else if (report.kind === "phonemes") {
    lines.push(
      `phonemes: ${report.language} (espeak-ng ${report.voice}), ${report.tokenCount} tokens, tokenizer ${report.tokenizer}`,
      `text: ${report.text}`,
      `ipa: ${report.ipa}`,
    );
  } else if (report.kind === "tokenizer") {
    const specials = report.specialTokens as { id: number; content: string }[];
    lines.push(
      `tokenizer: ${report.format}, ${report.vocabularySize} ids (${report.vocabEntries} strings, ${report.aliases} aliases), ${report.merges} merges`,
      `special tokens: ${specials.length === 0 ? "none" : specials.map((token) => `${token.content} ${token.id}`).join(", ")}`,
      `fingerprint: ${report.fingerprint}`,
    );
  } else if (report.kind === "codes-sidecar") {
    const shape =
      report.codebooks === undefined || report.frames === undefined
        ? "no shape"
        : `${report.codebooks} codebooks × ${report.frames} frames (${((report.frames as number) / 75).toFixed(2)} s at 75 Hz)`;
    lines.push(`codes sidecar (${report.format}): ${shape}`);
    if (report.source) lines.push(`source: ${JSON.stringify(report.source)}`);
    for (const key of ["text", "phonemes", "language"]) if (report[key]) lines.push(`${key}: ${report[key]}`);
    const npy = report.npy as { path: string; present: boolean; matches?: boolean; problem?: string } & Record<
      string,
      unknown
    >;
    lines.push(
      !npy.present
        ? `${npy.path}: missing (the codes this sidecar describes are not beside it)`
        : npy.matches
          ? `${npy.path}: beside it, matches (${npy.codebooks} × ${npy.frames} codes)`
          : `${npy.path}: beside it, does not match: ${npy.problem}`,
    );
  } else if (report.kind === "logits" || report.kind === "array") {
    const shape = (report.shape as number[]).join(" × ");
    const float = (report.dtype as string).startsWith("float");
    lines.push(
      report.kind === "logits"
        ? `logits: ${report.dtype} [${shape}] (${report.rows} row(s) of ${report.columns} values)`
        : `array: ${report.dtype} [${shape}] (.npy, ${report.values} values)`,
      `values: min ${formatValue(report.min)}, max ${formatValue(report.max)}, mean ${formatValue(report.mean)}${float ? `; ${report.nan} NaN, ${report.inf} Inf` : ""}`,
    );
    if (report.kind === "logits") {
      const argmax = report.argmax as { index: number | null; value: number | null }[];
      lines.push(
        `argmax of the first ${argmax.length} row(s): ${argmax.map((a) => (a.index === null ? "none" : `${a.index} (${formatValue(a.value)})`)).join(", ")}`,
      );
    }
  } else {
    const header = report.header as Record<string, number>;
    lines.push(
      `EnCodec weights (encodec.cpp format): ${report.tensors} tensors (${report.halfTensors} f16), ${report.parameters} parameters`,
      `header: ${JSON.stringify(header)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export function inspectCommand(context: CommandContext): Command {
  return new Command("inspect")
    .description(
      "describe a WAV, codes (.npy/.json/.enc) or their .npy.json sidecar, logits or other .npy, phoneme artifact, run.json, tokenizer.json, VALL-E GGUF, or EnCodec / Vocos weights",
    )
    .argument("<file>")
    .option("--json", "print the description as one JSON document")
    .action(async (path: string, options: { json?: boolean }) => {
      const report = await inspectFile(path);
      context.output.data(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatInspection(report));
    });
}
