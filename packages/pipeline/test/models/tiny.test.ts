import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { Codec, Vocos } from "@vall-e/codec";
import { LanguageModel } from "@vall-e/lm";
import { loadTokenizer } from "@vall-e/phonemizer";
import { describe, expect, it } from "vitest";
import { resolveModels } from "../../src/models/bundle.js";
import { checksumOf } from "../../src/models/hub.js";
import { TINY_VERSION, tinyBundle } from "../../src/models/tiny.js";

describe("the tiny bundle", () => {
  it("is generated once, the same bytes everywhere, and loads with the real loaders", async () => {
    const a = join(tempDir("vall-e-tiny-"), "tiny");
    const b = join(tempDir("vall-e-tiny-"), "tiny");
    // Two at once in the same folder: one generates, the other waits and finds it.
    const [first, second] = await Promise.all([tinyBundle(a), tinyBundle(a)]);
    expect(second).toEqual(first);
    const other = await tinyBundle(b);
    for (const role of ["lm", "codec", "tokenizer", "vocos"] as const) {
      expect(await checksumOf(first[role], "sha256"), role).toBe(await checksumOf(other[role], "sha256"));
    }
    expect(readdirSync(a).sort()).toEqual([
      "bundle.json",
      "config.yaml",
      "encodec.bin",
      "tokenizer.json",
      "vall_e-tiny.gguf",
      "vocos-tiny.pt",
    ]);

    const tokenizer = await loadTokenizer(first.tokenizer);
    const ids = tokenizer.encode("həlˈoʊ wˈɜːld.");
    expect(ids[0]).toBe(1);
    expect(ids.at(-1)).toBe(2);
    expect(ids).not.toContain(0); // every symbol of the example is in the inventory
    expect(ids).toHaveLength("həlˈoʊ wˈɜːld.".length + 2);
    await using model = await LanguageModel.load(first.lm);
    expect(model.info.nVocab).toBe(17702);
    await using codec = await Codec.load(first.codec);
    expect([codec.info.bins, codec.info.weightType]).toEqual([1024, "f16"]);
    await using vocos = await Vocos.load(first.vocos); // and its config.yaml, cross-checked
    expect([vocos.info.layers, vocos.codebookCounts]).toEqual([2, [2, 4, 8, 16]]);
    expect(JSON.parse(readFileSync(join(a, "bundle.json"), "utf8"))).toEqual({
      format: "vall-e.tiny",
      version: TINY_VERSION,
    });
  });

  it('resolveModels("tiny") gives all three files, or one of them for --codec tiny / --tokenizer tiny', async () => {
    const env = { HOME: "/nonexistent", XDG_CACHE_HOME: tempDir("vall-e-tiny-") };
    const all = await resolveModels({ model: "tiny", env });
    expect(all.tiny).toBe(true);
    expect(all.sources).toEqual({ lm: "tiny", codec: "tiny", tokenizer: "tiny" });
    expect(all.files.lm).toBe(join(env.XDG_CACHE_HOME, "vall-e", "tiny", "vall_e-tiny.gguf"));
    const codecOnly = await resolveModels({ codec: "tiny", need: ["codec"], env });
    expect(codecOnly).toEqual({ files: { codec: all.files.codec }, sources: { codec: "tiny" }, tiny: true });
  });
});
