/**
 * Loading the phoneme vocabulary: from a Hugging Face `tokenizer.json` (what the model bundle ships, and the only
 * source with every alias), or from a VALL-E GGUF's `tokenizer.ggml.tokens` / `tokenizer.ggml.merges`.
 */
import { open, readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { gguf } from "@huggingface/gguf";
import { fileReadError, jsonErrorPosition, statRegularFile, VallEError } from "@vall-e/core";
import { TokenizerFormatError } from "./errors.js";
import { PhonemeTokenizer, type TokenizerDefinition } from "./phoneme-tokenizer.js";

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The largest tokenizer.json read (the reference's is 13 kB). */
export const MAX_TOKENIZER_JSON_BYTES = 64 * 2 ** 20;
/** The largest GGUF a vocabulary is read from (only its header is read; the F16 LM is under 1 GB). */
const MAX_GGUF_BYTES = 16 * 2 ** 30;

/**
 * Parse the text of a tokenizer.json (BPE model). `source` names it in the fingerprint; `label` (default: source) in
 * messages — the file's path, when it came from one. A syntax error gives its position, never the file's bytes.
 */
export function parseTokenizerJson(text: string, source = "tokenizer.json", label = source): PhonemeTokenizer {
  const fail = (what: string) => new TokenizerFormatError(`Invalid tokenizer file ${label}: ${what}`);
  let root: Json;
  try {
    root = JSON.parse(text);
  } catch (error) {
    throw new TokenizerFormatError(`Invalid tokenizer file ${label}: not JSON${jsonErrorPosition(error)}`, {
      cause: error,
    });
  }
  if (!isObject(root)) throw fail("expected a JSON object");
  const model = root.model;
  if (!isObject(model)) throw fail('expected a "model" object');
  if (model.type !== undefined && model.type !== "BPE")
    throw fail(`expected model.type "BPE", got ${JSON.stringify(model.type)}`);
  if (!isObject(model.vocab)) throw fail("expected model.vocab to be an object of token → id");
  if (!Array.isArray(model.merges)) throw fail("expected model.merges to be an array");

  const vocab = new Map<string, number>();
  for (const [token, id] of Object.entries(model.vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0 || (id as number) > 0xffff) {
      throw fail(
        `model.vocab[${JSON.stringify(token)}] must be an integer id from 0 to 65535, got ${JSON.stringify(id)}`,
      );
    }
    vocab.set(token, id as number);
  }
  if (Array.isArray(root.added_tokens)) {
    for (const [index, added] of root.added_tokens.entries()) {
      if (!isObject(added) || typeof added.content !== "string" || !Number.isInteger(added.id)) {
        throw fail(`added_tokens[${index}] must have a string "content" and an integer "id"`);
      }
      if (!vocab.has(added.content)) vocab.set(added.content, added.id as number);
    }
  }

  const merges: [string, string][] = model.merges.map((merge: Json, index: number) => {
    // Two spellings exist: "a b" (older files) and ["a", "b"] (newer).
    const pair = typeof merge === "string" ? merge.split(" ") : merge;
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((part) => typeof part === "string" && part !== "")) {
      throw fail(`model.merges[${index}] must be "left right" or ["left", "right"], got ${JSON.stringify(merge)}`);
    }
    return [pair[0] as string, pair[1] as string];
  });
  return new PhonemeTokenizer({ vocab, merges, source });
}

// Special tokens of the unified VALL-E vocabulary look like <|…|>; the phoneme vocabulary is every id before the
// first of them (`vall_e/export.py` `convert_to_hf_llama` writes the text range first).
const SPECIAL_TOKEN = /^<\|.*\|>$/;

/** The phoneme vocabulary of a VALL-E GGUF (its first ids, up to the first <|…|> token). */
export async function readGgufTokenizer(path: string): Promise<PhonemeTokenizer> {
  const source = basename(path); // the fingerprint's name; messages give the path
  let metadata: Record<string, unknown>;
  let dataOffset: bigint;
  try {
    const parsed = await gguf(path, { allowLocalFile: true });
    metadata = parsed.metadata as unknown as Record<string, unknown>;
    dataOffset = parsed.tensorDataOffset;
  } catch (error) {
    throw new TokenizerFormatError(`Invalid GGUF file ${path}: ${(error as Error).message}`, { cause: error });
  }
  // The parser reads zeros past the end of a cut file: a header longer than the file means it was truncated.
  const size = (await stat(path)).size;
  if (dataOffset > BigInt(size)) {
    throw new TokenizerFormatError(
      `Invalid GGUF file ${path}: truncated — its header runs to byte ${dataOffset}, the file has ${size} bytes`,
    );
  }
  const tokens = metadata["tokenizer.ggml.tokens"];
  const merges = metadata["tokenizer.ggml.merges"];
  if (!Array.isArray(tokens) || !tokens.every((token) => typeof token === "string")) {
    throw new TokenizerFormatError(`Invalid GGUF file ${path}: no string array tokenizer.ggml.tokens`);
  }
  if (!Array.isArray(merges) || !merges.every((merge) => typeof merge === "string")) {
    throw new TokenizerFormatError(`Invalid GGUF file ${path}: no string array tokenizer.ggml.merges`);
  }
  const textEnd = tokens.findIndex((token) => SPECIAL_TOKEN.test(token as string));
  if (textEnd <= 0)
    throw new TokenizerFormatError(`Invalid GGUF file ${path}: no VALL-E special tokens (<|…|>) in its vocabulary`);
  const vocab = new Map<string, number>();
  (tokens as string[]).slice(0, textEnd).forEach((token, id) => {
    if (!vocab.has(token)) vocab.set(token, id);
  });
  const pairs = (merges as string[]).map((merge, index): [string, string] => {
    const parts = merge.split(" ");
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      throw new TokenizerFormatError(
        `Invalid GGUF file ${path}: tokenizer.ggml.merges[${index}] is ${JSON.stringify(merge)}`,
      );
    }
    return [parts[0], parts[1]];
  });
  // A GGUF keeps one string per id, so a merge's result may be missing (id 211 is kept as "1", not as the merge
  // result "wˈʌn"). BPE training gives merge k the id (first merge id + k); when every merge whose result is known
  // agrees on that offset, the missing results are restored from it.
  const offsets = new Set<number>();
  pairs.forEach(([left, right], rank) => {
    const id = vocab.get(left + right);
    if (id !== undefined) offsets.add(id - rank);
  });
  const [offset] = offsets;
  pairs.forEach(([left, right], rank) => {
    if (vocab.has(left + right)) return;
    if (offsets.size !== 1 || offset === undefined || offset + rank >= textEnd) {
      throw new TokenizerFormatError(
        `Invalid GGUF file ${path}: the result of merge ${rank} ("${left} ${right}") is not in its vocabulary and its id cannot be inferred`,
      );
    }
    vocab.set(left + right, offset + rank);
  });
  return new PhonemeTokenizer({
    vocab,
    merges: pairs,
    source,
    warnings: [
      `${source}: a GGUF vocabulary keeps one string per id, so aliases of the reference tokenizer.json (such as ` +
        "ᵝ → 4, y → 35, ɒ → 16) are missing and those characters become <unk>. Use the model's tokenizer.json for exact ids.",
    ],
  });
}

/** Load a tokenizer from a tokenizer.json or a GGUF file (told apart by the GGUF magic). */
export async function loadTokenizer(path: string): Promise<PhonemeTokenizer> {
  // A regular file (a FIFO would block the open, /dev/zero be read forever) of a bounded size.
  const found = await statRegularFile(path, "Tokenizer file", MAX_GGUF_BYTES);
  let magic: Buffer;
  try {
    const file = await open(path, "r");
    try {
      magic = Buffer.alloc(4);
      await file.read(magic, 0, 4, 0);
    } finally {
      await file.close();
    }
  } catch (error) {
    throw fileReadError("Tokenizer file", path, error);
  }
  if (magic.toString("latin1") === "GGUF") return readGgufTokenizer(path);
  if (found.size > MAX_TOKENIZER_JSON_BYTES) {
    throw new VallEError(
      "ERR_FILE_TOO_LARGE",
      `Tokenizer file ${path} is ${found.size} bytes: more than the ${MAX_TOKENIZER_JSON_BYTES} a tokenizer.json may have`,
    );
  }
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw fileReadError("Tokenizer file", path, error);
  }
  return parseTokenizerJson(text, basename(path), path);
}

export type { TokenizerDefinition };
