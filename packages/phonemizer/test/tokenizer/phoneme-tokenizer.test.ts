import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixture } from "@tooling/config/fixtures";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import {
  loadTokenizer,
  MAX_TOKENIZER_JSON_BYTES,
  parseTokenizerJson,
  readGgufTokenizer,
} from "../../src/tokenizer/load.js";
import type { PhonemeTokenizer } from "../../src/tokenizer/phoneme-tokenizer.js";

const tokenizerJson = fixture("vall-e", "tokenizer.json");
const gguf = fixture("lm", "valle_tiny_random_f16.gguf");

// Test vectors of `vall_e/data.py` `tokenize` (the first equals the ids hard-coded in `vall_e/models/base.py`'s
// `__main__`; the second tokenises qnt.enc's phonemes).
const VECTORS: [string, number[]][] = [
  ["həlˈoʊ wˈɜːld.", [1, 22, 111, 100, 4, 37, 115, 169, 11, 2]],
  ["wˈʌns ɐɡˈɛn, ˈɛksələnt wˈɜːk.", [1, 211, 33, 4, 48, 57, 123, 9, 4, 83, 171, 111, 139, 4, 37, 115, 25, 11, 2]],
  ["ðə kwˈɪk bɹˈaʊn fˈɑːks", [1, 90, 4, 241, 87, 25, 4, 203, 121, 28, 4, 21, 102, 171, 2]],
];

/** The slow, obvious BPE: merge the leftmost lowest-rank pair until none applies. */
function naiveMerge(symbols: number[], rules: Map<string, { rank: number; id: number }>): number[] {
  const ids = [...symbols];
  for (;;) {
    let best = -1;
    let bestRank = Number.POSITIVE_INFINITY;
    for (let i = 0; i + 1 < ids.length; i++) {
      const rule = rules.get(`${ids[i]},${ids[i + 1]}`);
      if (rule && rule.rank < bestRank) {
        best = i;
        bestRank = rule.rank;
      }
    }
    if (best < 0) return ids;
    const rule = rules.get(`${ids[best]},${ids[best + 1]}`) as { id: number };
    ids.splice(best, 2, rule.id);
  }
}

describe.skipIf(!tokenizerJson.present)(`phoneme tokenizer (tokenizer.json) ${tokenizerJson.reason}`, () => {
  let tokenizer: PhonemeTokenizer;
  const load = async () => {
    tokenizer ??= await loadTokenizer(tokenizerJson.path);
    return tokenizer;
  };

  it("gives the spec's ids for its test vectors", async () => {
    const t = await load();
    for (const [ipa, ids] of VECTORS) {
      expect(t.encode(ipa)).toEqual(ids);
      expect(await t.encodeAsync(ipa)).toEqual(ids);
    }
    expect(t.vocabularySize).toBe(256);
  });

  it("merges by rank, not left to right as the seed port does", async () => {
    // The seed port gives [1, 22, 111, 72, 91, 4, 37, 72, 106, 169, 2] here (`vall_e.cpp/vall_e.cpp` `phonemize`).
    expect((await load()).encode("həlˈoʊ wˈɜːld")).toEqual([1, 22, 111, 100, 4, 37, 115, 169, 2]);
  });

  it("merges aliases by id, like their canonical string", async () => {
    const t = await load();
    expect(t.encode("yː")).toEqual(t.encode("uː"));
    expect(t.encode("yː")).toEqual([1, 95, 2]);
    expect(t.encode("ᵝ")).toEqual([1, 4, 2]);
  });

  it("gives one <unk> per unknown code point, combining marks included", async () => {
    const t = await load();
    expect(t.encode("χʰ")).toEqual([1, 0, 0, 2]);
    expect(t.encode("a\u0303")).toEqual([1, 16, 75, 2]); // a + combining tilde
  });

  it("equals the obvious BPE on long random phoneme strings, in sync and async form", async () => {
    const t = await load();
    const raw = JSON.parse(readFileSync(tokenizerJson.path, "utf8")) as {
      model: { vocab: Record<string, number>; merges: string[] };
    };
    const rules = new Map<string, { rank: number; id: number }>();
    raw.model.merges.forEach((merge, rank) => {
      const [left, right] = merge.split(" ") as [string, string];
      const key = `${raw.model.vocab[left]},${raw.model.vocab[right]}`;
      rules.set(key, { rank, id: raw.model.vocab[left + right] as number });
    });
    const alphabet = Object.keys(raw.model.vocab).filter((token) => [...token].length === 1 && !token.startsWith("<"));
    let state = 7;
    const random = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
    for (let round = 0; round < 20; round++) {
      const text = Array.from({ length: 300 }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
      const symbols = [...text].map((char) => raw.model.vocab[char] as number);
      const expected = [1, ...naiveMerge(symbols, rules), 2];
      expect(t.encode(text)).toEqual(expected);
      expect(await t.encodeAsync(text, { yieldEvery: 50 })).toEqual(expected);
    }
  });

  it("decodes ids back to the phoneme string", async () => {
    const t = await load();
    for (const [ipa, ids] of VECTORS) expect(t.decode(ids)).toBe(ipa);
    expect(t.decode([1, 22, 2], { keepSpecial: true })).toBe("<bos>h</eos>");
    expect(() => t.decode([1, 300, 2])).toThrow("Expected a token id from 0 to 255 for ids[1], got 300");
    expect(() => t.decode([1, 2.5])).toThrow("Expected a token id from 0 to 255 for ids[1], got 2.5");
  });

  it("fingerprints the vocabulary it came from", async () => {
    expect((await load()).fingerprint).toMatch(/^tokenizer\.json#[0-9a-f]{16}$/);
  });
});

describe("tokenizer.json validation", () => {
  it("rejects malformed files with a message naming the problem", () => {
    expect(() => parseTokenizerJson('{"secret', "bad.json")).toThrow(
      /^Invalid tokenizer file bad\.json: not JSON \(a syntax error at byte \d+\)$/, // never the file's bytes
    );
    expect(() => parseTokenizerJson("[]", "bad.json")).toThrow(
      "Invalid tokenizer file bad.json: expected a JSON object",
    );
    expect(() => parseTokenizerJson('{"model": {"type": "WordPiece", "vocab": {}, "merges": []}}', "bad.json")).toThrow(
      'Invalid tokenizer file bad.json: expected model.type "BPE", got "WordPiece"',
    );
    expect(() => parseTokenizerJson('{"model": {"vocab": {"a": "x"}, "merges": []}}', "bad.json")).toThrow(
      'Invalid tokenizer file bad.json: model.vocab["a"] must be an integer id from 0 to 65535, got "x"',
    );
    expect(() => parseTokenizerJson('{"model": {"vocab": {"a": 0}, "merges": ["a"]}}', "bad.json")).toThrow(
      'Invalid tokenizer file bad.json: model.merges[0] must be "left right" or ["left", "right"], got "a"',
    );
    expect(() => parseTokenizerJson('{"model": {"vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}', "bad.json")).toThrow(
      'Invalid tokenizer merges: merge 0 ("a b") uses "ab", which is not in the vocabulary',
    );
  });

  it("accepts both merge spellings", () => {
    const vocab = '{"a": 0, "b": 1, "ab": 2}';
    const strings = parseTokenizerJson(`{"model": {"vocab": ${vocab}, "merges": ["a b"]}}`);
    const arrays = parseTokenizerJson(`{"model": {"vocab": ${vocab}, "merges": [["a", "b"]]}}`);
    expect(strings.encode("aab")).toEqual([1, 0, 2, 2]);
    expect(arrays.encode("aab")).toEqual(strings.encode("aab"));
  });

  it("names the file by its path, and reads only a regular file of bounded size", async () => {
    const dir = tempDir("tokenizer-files-");
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "[1]");
    await expect(loadTokenizer(bad)).rejects.toThrow(`Invalid tokenizer file ${bad}: expected a JSON object`);
    await expect(loadTokenizer(dir)).rejects.toMatchObject({
      code: "ERR_NOT_A_FILE",
      message: `Tokenizer file ${dir} is not a regular file (a folder)`,
    });
    const big = join(dir, "big.json");
    writeFileSync(big, "");
    truncateSync(big, MAX_TOKENIZER_JSON_BYTES + 1);
    await expect(loadTokenizer(big)).rejects.toMatchObject({ code: "ERR_FILE_TOO_LARGE" });
  });

  it("says when the file is missing", async () => {
    await expect(loadTokenizer("/nonexistent/tokenizer.json")).rejects.toMatchObject({
      code: "ERR_FILE_NOT_FOUND",
      message: "Tokenizer file not found: /nonexistent/tokenizer.json",
    });
  });
});

describe.skipIf(!gguf.present)(`phoneme tokenizer from a GGUF ${gguf.reason}`, () => {
  it("reads the vocabulary and merges, restoring merge results the file cannot hold", async () => {
    const t = await readGgufTokenizer(gguf.path);
    expect(t.vocabularySize).toBe(256);
    // "wˈʌn" shares id 211 with "1" and only "1" is in the GGUF; the merge result is inferred.
    for (const [ipa, ids] of VECTORS) expect(t.encode(ipa)).toEqual(ids);
    expect(t.warnings[0]).toContain("aliases of the reference tokenizer.json");
  });

  it("rejects files that are not GGUF", async () => {
    await expect(readGgufTokenizer(tokenizerJson.path)).rejects.toThrow(
      `Invalid GGUF file ${tokenizerJson.path}: not a valid gguf file: not starting with GGUF magic number`,
    );
  });
});
