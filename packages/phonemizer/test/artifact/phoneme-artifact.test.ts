import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import {
  type PhonemeArtifact,
  readPhonemeArtifact,
  validatePhonemeArtifact,
  writePhonemeArtifact,
} from "../../src/artifact/phoneme-artifact.js";

const artifact: PhonemeArtifact = {
  format: "vall-e.phonemes/1",
  text: "Hello world.",
  language: "en",
  voice: "en-us",
  ipa: "həlˈoʊ wˈɜːld.",
  tokens: [1, 22, 111, 100, 4, 37, 115, 169, 11, 2],
  tokenizer: "tokenizer.json#0123456789abcdef",
};

describe("PhonemeArtifact", () => {
  it("round-trips through a file", async () => {
    const dir = tempDir("phonemes-");
    const path = join(dir, "hello.phonemes.json");
    await writePhonemeArtifact(path, artifact);
    expect(await readPhonemeArtifact(path)).toEqual(artifact);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual(artifact);
    expect(readdirSync(dir)).toEqual(["hello.phonemes.json"]);
  });

  it("rejects what the generate stage could not use, naming the field", () => {
    const bad = (patch: Record<string, unknown>) => () => validatePhonemeArtifact({ ...artifact, ...patch }, "a.json");
    expect(bad({ format: "vall-e.phonemes/2" })).toThrow(
      'Invalid a.json: unsupported format "vall-e.phonemes/2" (expected "vall-e.phonemes/1")',
    );
    expect(bad({ tokens: [1, 300, 2] })).toThrow("Invalid a.json: tokens[1] must be an integer from 0 to 255, got 300");
    expect(bad({ tokens: [1, -1, 2] })).toThrow("Invalid a.json: tokens[1] must be an integer from 0 to 255, got -1");
    expect(bad({ tokens: [22, 11, 2] })).toThrow(
      'Invalid a.json: "tokens" must start with <bos> (1) and end with </eos> (2)',
    );
    expect(bad({ language: "es" })).toThrow(
      'Invalid a.json: "language" must be one of en, ja, de, fr, zh, ko, got "es"',
    );
    expect(bad({ ipa: 5 })).toThrow('Invalid a.json: "ipa" must be a string');
    expect(() => validatePhonemeArtifact([], "a.json")).toThrow("Invalid a.json: expected a JSON object");
  });

  it("reports unreadable files clearly", async () => {
    const dir = tempDir("phonemes-");
    const path = join(dir, "broken.json");
    writeFileSync(path, "{ not json");
    await expect(readPhonemeArtifact(path)).rejects.toMatchObject({ code: "ERR_ARTIFACT_FORMAT" });
    await expect(readPhonemeArtifact(join(dir, "missing.json"))).rejects.toThrow(
      `Phoneme artifact not found: ${join(dir, "missing.json")}`,
    );
  });

  it("never leaves a half-written file", async () => {
    const dir = tempDir("phonemes-");
    await expect(writePhonemeArtifact(join(dir, "no-such-dir", "a.json"), artifact)).rejects.toMatchObject({
      code: "ERR_FILE_WRITE",
    });
    await expect(writePhonemeArtifact(join(dir, "a.json"), { ...artifact, tokens: [1, 999, 2] })).rejects.toMatchObject(
      {
        code: "ERR_ARTIFACT_FORMAT",
      },
    );
    expect(readdirSync(dir)).toEqual([]);
  });
});
