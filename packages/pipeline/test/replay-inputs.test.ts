/** run.json records each input file's size and SHA-256; a replay refuses one that changed, naming it. */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { encodeWav } from "@vall-e/codec";
import { beforeAll, describe, expect, it } from "vitest";
import { type TinyBundle, tinyBundle } from "../src/models/tiny.js";
import { replay } from "../src/replay.js";
import { type RunManifest, synthesize } from "../src/synthesize.js";

const dir = tempDir("vall-e-replay-inputs-");
let tiny: TinyBundle;
const voice = join(dir, "voice.wav");
writeFileSync(
  voice,
  encodeWav(
    Float32Array.from({ length: 9000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 200 * i) / 16000)),
    16000,
  ),
);
const options = () => ({
  models: { lm: tiny.lm, codec: tiny.codec, tokenizer: tiny.tokenizer, vocos: tiny.vocos },
  language: "en" as const,
  sampling: { maxSteps: 2 },
  maxDuration: 0.4,
  promptSeconds: 0.4,
  seed: 3,
  threads: 2,
});
const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const checksum = (path: string) => ({ sha256: sha256(path), bytes: readFileSync(path).length });
const manifestOf = (runDir: string) => JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")) as RunManifest;
/** The same bytes but the last one. */
const flipLastByte = (path: string) => {
  const bytes = readFileSync(path);
  bytes.writeUInt8((bytes.at(-1) as number) ^ 1, bytes.length - 1);
  writeFileSync(path, bytes);
};

beforeAll(async () => {
  tiny = await tinyBundle(join(dir, "tiny"));
});

describe("input files in run.json", () => {
  it("the text file and the voice are recorded; a changed one is refused with both SHA-256, a same one replays", async () => {
    const textFile = join(dir, "text.txt");
    writeFileSync(textFile, "Hi there.\n");
    const voiceCopy = join(dir, "voice-copy.wav");
    copyFileSync(voice, voiceCopy);
    const first = join(dir, "text-run");
    const text = readFileSync(textFile, "utf8");
    const original = await synthesize({ ...options(), text, textFile, reference: voiceCopy, artifactsDir: first });
    const run = manifestOf(first);
    expect(run.inputs).toEqual({ text, textFile, reference: [voiceCopy] });
    expect(run.inputChecksums).toEqual({ textFile: checksum(textFile), reference: [checksum(voiceCopy)] });
    const again = join(dir, "text-run-again");
    expect((await replay(join(first, "run.json"), { artifactsDir: again })).audio).toEqual(original.audio);
    // The replay's own run.json records the same inputs.
    expect(manifestOf(again).inputChecksums).toEqual(run.inputChecksums);

    const recordedVoice = sha256(voiceCopy);
    flipLastByte(voiceCopy);
    await expect(replay(join(first, "run.json"))).rejects.toMatchObject({
      code: "ERR_REPLAY",
      message: `${voiceCopy} is not the voice prompt file the run used: its SHA-256 is ${sha256(voiceCopy)}, the run recorded ${recordedVoice}`,
    });
    copyFileSync(voice, voiceCopy);
    const recordedText = sha256(textFile);
    writeFileSync(textFile, "Hi there!\n");
    await expect(replay(join(first, "run.json"))).rejects.toMatchObject({
      code: "ERR_REPLAY",
      message: `${textFile} is not the text file the run used: its SHA-256 is ${sha256(textFile)}, the run recorded ${recordedText}`,
    });
    // The size is compared before a byte is hashed.
    writeFileSync(textFile, "Hi.\n");
    await expect(replay(join(first, "run.json"))).rejects.toMatchObject({
      code: "ERR_REPLAY",
      message: `${textFile} is not the text file the run used: it has 4 bytes, the run recorded 10`,
    });
  });

  it("phoneme artifacts and prompt codes, and response codes, are checked too", async () => {
    const first = join(dir, "artifacts-run");
    await synthesize({ ...options(), text: "One. Two.", reference: voice, artifactsDir: first });
    const phonemes = ["001.phonemes.json", "002.phonemes.json"].map((f) => join(dir, `given-${f}`));
    copyFileSync(join(first, "001.phonemes.json"), phonemes[0] as string);
    copyFileSync(join(first, "002.phonemes.json"), phonemes[1] as string);
    const promptCodes = join(dir, "given-prompt.codes.npy");
    copyFileSync(join(first, "prompt.codes.npy"), promptCodes);
    copyFileSync(join(first, "prompt.codes.npy.json"), `${promptCodes}.json`);
    const fromPhonemes = join(dir, "from-phonemes");
    await synthesize({ ...options(), phonemes, promptCodes, artifactsDir: fromPhonemes });
    expect(manifestOf(fromPhonemes).inputChecksums).toEqual({
      promptCodes: checksum(promptCodes),
      phonemes: phonemes.map(checksum),
    });
    const recorded = sha256(phonemes[1] as string);
    const artifact = JSON.parse(readFileSync(phonemes[1] as string, "utf8"));
    writeFileSync(phonemes[1] as string, `${JSON.stringify({ ...artifact, text: "Too." }, null, 2)}\n`);
    await expect(replay(join(fromPhonemes, "run.json"))).rejects.toThrow(
      `${phonemes[1]} is not the phoneme artifact the run used: its SHA-256 is ${sha256(phonemes[1] as string)}, the run recorded ${recorded}`,
    );
    copyFileSync(join(first, "002.phonemes.json"), phonemes[1] as string);
    const recordedPrompt = sha256(promptCodes);
    flipLastByte(promptCodes);
    await expect(replay(join(fromPhonemes, "run.json"))).rejects.toThrow(
      `${promptCodes} is not the prompt codes file the run used: its SHA-256 is ${sha256(promptCodes)}, the run recorded ${recordedPrompt}`,
    );

    const responseCodes = [join(first, "001.codes.npy")];
    const fromCodes = join(dir, "from-codes");
    await synthesize({ ...options(), models: { vocos: tiny.vocos }, responseCodes, artifactsDir: fromCodes });
    expect(manifestOf(fromCodes).inputChecksums).toEqual({ responseCodes: [checksum(responseCodes[0] as string)] });
    await replay(join(fromCodes, "run.json"));
    const recordedCodes = sha256(responseCodes[0] as string);
    flipLastByte(responseCodes[0] as string);
    await expect(replay(join(fromCodes, "run.json"))).rejects.toThrow(
      `${responseCodes[0]} is not the response codes file the run used: its SHA-256 is ${sha256(responseCodes[0] as string)}, the run recorded ${recordedCodes}`,
    );
  });

  it("prompt codes a run made from a voice that is not all files are hashed as written", async () => {
    const samples = Float32Array.from({ length: 8000 }, (_, i) => 0.2 * Math.sin(i / 7));
    const out = join(dir, "samples-run");
    await synthesize({
      ...options(),
      text: "Hi.",
      reference: { samples, sampleRate: 16000 },
      artifactsDir: out,
    });
    const run = manifestOf(out);
    expect(run.inputs.promptCodes).toBe(join(out, "prompt.codes.npy"));
    expect(run.inputChecksums).toEqual({ promptCodes: checksum(join(out, "prompt.codes.npy")) });
    await replay(join(out, "run.json"));
  });

  it("a run.json without checksums (an older run) still replays; relative paths are checked where they point", async () => {
    const first = join(dir, "old-run");
    const original = await synthesize({ ...options(), text: "Hi.", reference: voice, artifactsDir: first });
    const { inputChecksums, ...old } = manifestOf(first);
    expect(inputChecksums?.reference).toEqual([checksum(voice)]);
    writeFileSync(join(first, "run.json"), JSON.stringify(old));
    expect((await replay(join(first, "run.json"))).audio).toEqual(original.audio);

    const moved = join(tempDir("vall-e-replay-moved-"), "run");
    mkdirSync(moved);
    copyFileSync(voice, join(moved, "voice.wav"));
    const manifest = { ...old, inputChecksums, inputs: { ...old.inputs, reference: ["voice.wav"] } };
    writeFileSync(join(moved, "run.json"), JSON.stringify(manifest));
    expect((await replay(join(moved, "run.json"))).audio).toEqual(original.audio);
    flipLastByte(join(moved, "voice.wav"));
    await expect(replay(join(moved, "run.json"))).rejects.toThrow(
      `${join(moved, "voice.wav")} is not the voice prompt file the run used: its SHA-256 is`,
    );
  });

  it("malformed checksums are named; an input that is not a regular file is refused before it is read", async () => {
    const bad = join(dir, "bad-run.json");
    const manifest = (inputs: object, inputChecksums: unknown) =>
      JSON.stringify({
        format: "vall-e.run/1",
        inputs: { text: "Hi.", ...inputs },
        inputChecksums,
        options: {},
        models: {},
      });
    const sum = { sha256: "0".repeat(64), bytes: 3 };
    writeFileSync(bad, manifest({ reference: [voice] }, { reference: [sum, sum] }));
    await expect(replay(bad)).rejects.toMatchObject({
      code: "ERR_REPLAY",
      message: `${bad}: "inputChecksums.reference" must be a list of 1 {"sha256": <64 hex digits>, "bytes": <size>} (or null), one per file of "inputs.reference"`,
    });
    writeFileSync(bad, manifest({ reference: [] }, { textFile: sum }));
    await expect(replay(bad)).rejects.toThrow(`${bad}: "inputChecksums.textFile" has no "inputs.textFile"`);
    writeFileSync(bad, manifest({ reference: [], textFile: "t.txt" }, { textFile: { sha256: "x" } }));
    await expect(replay(bad)).rejects.toThrow(
      `${bad}: "inputChecksums.textFile" must be {"sha256": <64 hex digits>, "bytes": <size>}`,
    );
    writeFileSync(bad, manifest({ reference: [] }, { secrets: sum }));
    await expect(replay(bad)).rejects.toThrow(
      `${bad}: "inputChecksums.secrets" is not an input file (expected textFile, reference, promptCodes, phonemes, responseCodes)`,
    );
    writeFileSync(bad, manifest({ reference: [] }, []));
    await expect(replay(bad)).rejects.toThrow(`${bad}: "inputChecksums" must be an object`);
    const fifo = join(dir, "voice.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    writeFileSync(bad, manifest({ reference: [fifo] }, { reference: [sum] }));
    await expect(replay(bad)).rejects.toMatchObject({
      code: "ERR_NOT_A_FILE",
      message: `The run's voice prompt file ${fifo} is not a regular file (a FIFO)`,
    });
  });

  it("textFile is recorded only with the text it held", async () => {
    await expect(synthesize({ ...options(), phonemes: ["a.json"], textFile: "a.txt" })).rejects.toThrow(
      "textFile names the file the text was read from: give the text too",
    );
  });
});
