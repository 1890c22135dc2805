/**
 * The phoneme tokenizer (`data/tokenizer.json` as `vall_e/data.py` `tokenize` uses it): Hugging Face `tokenizers` BPE
 * semantics over Unicode code points, with no normalizer and no pre-tokenizer (the whole phoneme string, spaces
 * included, is one word).
 *
 *   1. each code point becomes its id, or <unk> (one per unknown code point);
 *   2. merges are matched by id pairs (so an alias such as `y` → 35 merges exactly as `u` does), and the adjacent
 *      pair with the lowest merge rank is merged first, leftmost on ties, until no pair merges (a heap, as the
 *      reference does: O(n log n));
 *   3. <bos> before, </eos> after.
 */
import { createHash } from "node:crypto";
import { invalid } from "@vall-e/core";
import { findLoneSurrogate, hex } from "../text/validate-text.js";
import { TokenizerFormatError } from "./errors.js";
import { MinHeap } from "./min-heap.js";

export const UNK_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
export const MASK_ID = 3;

/** What a tokenizer is built from: strings → ids (several strings may share an id) and ranked merges. */
export interface TokenizerDefinition {
  /** Every string the vocabulary knows and its id; aliases share an id. */
  vocab: ReadonlyMap<string, number>;
  /** Merge rules in rank order, each as its two strings. */
  merges: readonly (readonly [string, string])[];
  /** Where it came from (a file name), for the artifact's `tokenizer` field. */
  source: string;
  /** Notes for the user about this vocabulary (e.g. aliases a GGUF file cannot carry). */
  warnings?: readonly string[];
}

interface MergeRule {
  rank: number;
  id: number;
}

interface QueuedMerge {
  rank: number;
  position: number;
  id: number;
}

export interface DetokenizeOptions {
  /** Keep <unk>, <bos>, </eos> and <mask> as their strings (default: drop them). */
  keepSpecial?: boolean;
}

export class PhonemeTokenizer {
  /** Ids are 0 ..< vocabularySize. */
  readonly vocabularySize: number;
  /** `<source>#<16 hex digits of the vocabulary's SHA-256>`: which vocabulary produced a set of ids. */
  readonly fingerprint: string;
  readonly warnings: readonly string[];
  readonly #ids = new Map<string, number>(); // single code point → id
  readonly #merges = new Map<number, MergeRule>(); // (left id, right id) → rule
  readonly #strings: string[] = []; // id → string for detokenize
  readonly #specials: ReadonlySet<number>;
  readonly #inert = new Set<number>(); // ids that take part in no merge: runs between them tokenize independently

  constructor(definition: TokenizerDefinition) {
    const { vocab, merges } = definition;
    let maxId = -1;
    for (const [text, id] of vocab) {
      if (!Number.isInteger(id) || id < 0 || id > 0xffff) {
        throw new TokenizerFormatError(`Invalid tokenizer vocabulary: the id of ${JSON.stringify(text)} is ${id}`);
      }
      maxId = Math.max(maxId, id);
      if ([...text].length === 1) this.#ids.set(text, id);
      // The first string of an id names it, unless a merge produces a longer one (below).
      this.#strings[id] ??= text;
    }
    this.vocabularySize = maxId + 1;

    merges.forEach(([left, right], rank) => {
      const leftId = vocab.get(left);
      const rightId = vocab.get(right);
      const resultId = vocab.get(left + right);
      if (leftId === undefined || rightId === undefined || resultId === undefined) {
        const missing = [left, right, left + right].find((item) => !vocab.has(item));
        throw new TokenizerFormatError(
          `Invalid tokenizer merges: merge ${rank} ("${left} ${right}") uses ${JSON.stringify(missing)}, which is not in the vocabulary`,
        );
      }
      const key = leftId * 65536 + rightId;
      // As Hugging Face does when it loads merges: a later duplicate of the same id pair replaces the earlier.
      this.#merges.set(key, { rank, id: resultId });
      this.#strings[resultId] = left + right;
    });

    for (let id = 0; id < this.vocabularySize; id++) this.#strings[id] ??= "";
    const merging = new Set<number>();
    for (const key of this.#merges.keys()) {
      merging.add(Math.floor(key / 65536));
      merging.add(key % 65536);
    }
    for (let id = 0; id < this.vocabularySize; id++) if (!merging.has(id)) this.#inert.add(id);
    if (!merging.has(UNK_ID)) this.#inert.add(UNK_ID);
    this.#specials = new Set([UNK_ID, BOS_ID, EOS_ID, MASK_ID]);
    this.warnings = definition.warnings ?? [];

    const hash = createHash("sha256");
    for (const [text, id] of [...vocab].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)))
      hash.update(`${id}\t${text}\n`);
    for (const [left, right] of merges) hash.update(`${left} ${right}\n`);
    this.fingerprint = `${definition.source}#${hash.digest("hex").slice(0, 16)}`;
  }

  /** Token ids for a phoneme string, with <bos> and </eos>. */
  encode(ipa: string): number[] {
    if (typeof ipa !== "string") throw invalid("a string", "ipa", ipa);
    const surrogate = findLoneSurrogate(ipa);
    if (surrogate >= 0)
      throw invalid("a string without lone surrogates", "ipa", `U+${hex(ipa, surrogate)} at offset ${surrogate}`);
    return [BOS_ID, ...this.#merge([...ipa].map((char) => this.#ids.get(char) ?? UNK_ID)), EOS_ID];
  }

  /**
   * encode() for long input without holding the event loop: the symbols are cut at ids that take part in no merge
   * (no merge can cross them, so the result is identical), and the work yields every `yieldEvery` symbols.
   */
  async encodeAsync(ipa: string, options: { yieldEvery?: number; signal?: AbortSignal } = {}): Promise<number[]> {
    if (typeof ipa !== "string") throw invalid("a string", "ipa", ipa);
    const surrogate = findLoneSurrogate(ipa);
    if (surrogate >= 0)
      throw invalid("a string without lone surrogates", "ipa", `U+${hex(ipa, surrogate)} at offset ${surrogate}`);
    const yieldEvery = options.yieldEvery ?? 20_000;
    const symbols = [...ipa].map((char) => this.#ids.get(char) ?? UNK_ID);
    const out = [BOS_ID];
    let start = 0;
    let sinceYield = 0;
    for (let i = 0; i <= symbols.length; i++) {
      if (i < symbols.length && !this.#inert.has(symbols[i] as number)) continue;
      for (const id of this.#merge(symbols.slice(start, i))) out.push(id);
      if (i < symbols.length) out.push(symbols[i] as number);
      sinceYield += i - start + 1;
      start = i + 1;
      if (sinceYield >= yieldEvery) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
        options.signal?.throwIfAborted();
      }
    }
    out.push(EOS_ID);
    return out;
  }

  /** The phoneme string of token ids (each id's canonical string); out-of-range ids are an error. */
  decode(ids: readonly number[], options: DetokenizeOptions = {}): string {
    if (!Array.isArray(ids)) throw invalid("an array of token ids", "ids", ids);
    let out = "";
    ids.forEach((id, index) => {
      if (!Number.isInteger(id) || id < 0 || id >= this.vocabularySize) {
        throw invalid(`a token id from 0 to ${this.vocabularySize - 1}`, `ids[${index}]`, id);
      }
      if (this.#specials.has(id) && !options.keepSpecial) return;
      out += this.#strings[id];
    });
    return out;
  }

  #merge(symbols: number[]): number[] {
    const n = symbols.length;
    if (n < 2) return symbols;
    const ids = Int32Array.from(symbols);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const queue = new MinHeap<QueuedMerge>((a, b) => a.rank < b.rank || (a.rank === b.rank && a.position < b.position));
    const consider = (position: number) => {
      const right = next[position] as number;
      if (position < 0 || right < 0) return;
      const rule = this.#merges.get((ids[position] as number) * 65536 + (ids[right] as number));
      if (rule) queue.push({ rank: rule.rank, position, id: rule.id });
    };
    for (let i = 0; i + 1 < n; i++) consider(i);

    for (let top = queue.pop(); top !== undefined; top = queue.pop()) {
      const { position } = top;
      const right = next[position] as number;
      if (!alive[position] || right < 0) continue;
      // Skip entries that went stale when a neighbour merged first.
      const rule = this.#merges.get((ids[position] as number) * 65536 + (ids[right] as number));
      // As Hugging Face's BPE does, only the resulting id is compared.
      if (!rule || rule.id !== top.id) continue;
      ids[position] = rule.id;
      alive[right] = 0;
      const after = next[right] as number;
      next[position] = after;
      if (after >= 0) prev[after] = position;
      consider(prev[position] as number);
      consider(position);
    }

    const out: number[] = [];
    for (let i = 0; i >= 0; i = next[i] as number) out.push(ids[i] as number);
    return out;
  }
}
