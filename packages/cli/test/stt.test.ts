/** `vall-e stt` end to end on the tiny bundle: the artifact, the same seed → the same artifact, bad input. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { EXIT_USAGE } from "../src/exit-codes.js";
import { offlineEnv, vallE as runVallE, writeSineWav } from "./processes.js";

const dir = tempDir("cli-stt-");
const env = offlineEnv(dir);
const vallE = (args: string[]) => runVallE(args, env, 120_000);
const voice = writeSineWav(join(dir, "voice.wav"), 24000, 24000, 7);

describe("vall-e stt", () => {
  it("writes a phoneme artifact; the same seed gives the same one; without -o it prints the IPA", async () => {
    const a = join(dir, "a.json");
    const b = join(dir, "b.json");
    const first = await vallE(["stt", voice, "--model", "tiny", "--seed", "3", "-o", a]);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/wrote .*a\.json: \d+ tokens from 1\.00 s/);
    const artifact = JSON.parse(readFileSync(a, "utf8")) as {
      format: string;
      tokens: number[];
      ipa: string;
      language: string;
    };
    expect(artifact).toMatchObject({ format: "vall-e.phonemes/1", language: "en", text: "" });
    expect(artifact.tokens[0]).toBe(1);
    expect(artifact.tokens.at(-1)).toBe(2);
    expect((await vallE(["stt", voice, "--model", "tiny", "--seed", "3", "-o", b])).code).toBe(0);
    expect(readFileSync(b, "utf8")).toBe(readFileSync(a, "utf8"));
    const printed = await vallE(["stt", voice, "--model", "tiny", "--seed", "3"]);
    expect(printed.stdout).toBe(`${artifact.ipa}\n`);
    // The artifact is a phoneme artifact like phonemize's: tts takes it.
    const spoken = await vallE([
      "tts",
      "--phonemes",
      a,
      "--model",
      "tiny",
      "-o",
      join(dir, "s.wav"),
      "--max-steps",
      "2",
    ]);
    expect(spoken.code).toBe(0);
  }, 120_000);

  it("bad input: a missing file, a non-audio file, too few codebooks, an unknown language", async () => {
    expect(await vallE(["stt", "/nonexistent.wav", "--model", "tiny"])).toMatchObject({
      code: EXIT_USAGE,
      stderr: expect.stringContaining("Audio file not found: /nonexistent.wav"),
    });
    const text = join(dir, "notes.txt");
    writeFileSync(text, "hello");
    expect((await vallE(["stt", text, "--model", "tiny"])).stderr).toContain("not an audio file this build reads");
    const codes = join(dir, "codes.json");
    writeFileSync(
      codes,
      JSON.stringify({
        format: "vall-e.codes/1",
        sampleRate: 24000,
        frameRate: 75,
        codebooks: 2,
        frames: 3,
        codes: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      }),
    );
    const few = await vallE(["stt", codes, "--model", "tiny"]);
    expect(few.stderr).toContain("Expected speech codes of at least 7 levels (levels × frames) for codes, got 2");
    expect(few.code).toBe(EXIT_USAGE);
    const lang = await vallE(["stt", voice, "--model", "tiny", "--lang", "xx"]);
    expect(lang.code).toBe(EXIT_USAGE);
    expect(lang.stderr).toContain("argument 'xx' is invalid");
  }, 120_000);
});
