/**
 * How `tts` reads what a person types: the text after a variadic --prompt, ns / sr without a transcript, abbreviations
 * in a sentence, and `-o -` refused when stdout is a terminal (run under `script`, which gives it a pseudo-terminal).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "@tooling/config/temp-dir";
import { parseWav } from "@vall-e/codec";
import { describe, expect, it } from "vitest";
import { EXIT_FAILURE, EXIT_USAGE } from "../src/exit-codes.js";
import { bin, offlineEnv, Running, vallE as runVallE, startVallE, writeSineWav } from "./processes.js";

const dir = tempDir("cli-tts-input-");
const env = offlineEnv(dir, { VALL_E_VOICES_DIR: join(dir, "voices") });
const voice = writeSineWav(join(dir, "voice.wav"), 12000, 12000, 9);
const quick = ["--model", "tiny", "--max-steps", "3", "--seed", "1"];

const vallE = (args: string[]) => runVallE(args, env, 120_000);
const seconds = (path: string) => {
  const audio = parseWav(readFileSync(path));
  return (audio.channels[0]?.length ?? 0) / audio.sampleRate;
};

describe("tts input", () => {
  it('`--prompt voice.wav "Hello there."` speaks the text in that voice (the same as the text first)', async () => {
    const a = join(dir, "a.wav");
    const b = join(dir, "b.wav");
    expect((await vallE(["tts", "--prompt", voice, "Hello there.", "-o", a, ...quick])).code).toBe(0);
    expect((await vallE(["tts", "Hello there.", "--prompt", voice, "-o", b, ...quick])).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
  }, 60_000);

  it("--task ns without a transcript cleans up the whole prompt", async () => {
    const out = join(dir, "ns.wav");
    const result = await vallE(["tts", "--task", "ns", "--prompt", voice, "-o", out, ...quick]);
    expect(result.stderr).toContain("1 sentence(s)");
    expect(result.code).toBe(0);
    expect(seconds(out)).toBeCloseTo(1, 1); // as long as the 1 s prompt
  }, 60_000);

  it("abbreviations stay inside their sentence: two utterances", async () => {
    const artifacts = join(dir, "abbr");
    const text = "Dr. Smith lives on St. James St. at 5 p.m. It was 3.5 degrees.";
    const result = await vallE(["tts", text, "-o", join(dir, "abbr.wav"), "--artifacts", artifacts, ...quick]);
    expect(result.code).toBe(0);
    expect(readdirSync(artifacts).filter((f) => f.endsWith(".phonemes.json"))).toEqual([
      "001.phonemes.json",
      "002.phonemes.json",
    ]);
    const first = JSON.parse(readFileSync(join(artifacts, "001.phonemes.json"), "utf8")) as { text: string };
    expect(first.text).toBe("Dr. Smith lives on St. James St. at 5 p.m.");
  }, 60_000);

  it("--prompt takes MP3, FLAC, Ogg Opus and Vorbis as well as WAV; anything else names the formats", async () => {
    const fixture = (name: string) => fileURLToPath(new URL(`../../codec/test/fixtures/${name}`, import.meta.url));
    for (const name of ["tone.mp3", "tone.flac", "tone.opus", "tone.ogg"]) {
      const result = await vallE([
        "tts",
        "--prompt",
        fixture(name),
        "Hello.",
        "-o",
        join(dir, `${name}.wav`),
        ...quick,
      ]);
      expect([name, result.code]).toEqual([name, 0]);
    }
    const text = join(dir, "notes.txt");
    writeFileSync(text, "not audio");
    const bad = await vallE(["tts", "Hello.", "--prompt", text, "-o", join(dir, "bad.wav"), ...quick]);
    expect(bad.stderr).toContain(
      "not an audio file this build reads (expected WAV, FLAC, MP3, Ogg Opus or Ogg Vorbis)",
    );
    expect(bad.code).toBe(EXIT_FAILURE); // as every malformed input file
  }, 120_000);

  it("voices add / list / remove; tts --voice-ref NAME equals tts --prompt with its file", async () => {
    const added = await vallE(["voices", "add", "anna", voice, "--codec", "tiny"]);
    expect(added.code).toBe(0);
    const id = added.stdout.trim();
    expect(id).toMatch(/^voice_[0-9a-f]{24}$/);
    const list = JSON.parse((await vallE(["voices", "list", "--json"])).stdout) as { id: string; name: string }[];
    expect(list.map((v) => [v.id, v.name])).toEqual([[id, "anna"]]);
    const byName = join(dir, "by-name.wav");
    const byFile = join(dir, "by-file.wav");
    expect((await vallE(["tts", "Hello.", "--voice-ref", "anna", "-o", byName, ...quick])).code).toBe(0);
    expect((await vallE(["tts", "Hello.", "--prompt", voice, "-o", byFile, ...quick])).code).toBe(0);
    expect(readFileSync(byName).equals(readFileSync(byFile))).toBe(true);
    const unknown = await vallE(["tts", "Hello.", "--voice-ref", "bob", "-o", byName, ...quick]);
    expect(unknown.stderr).toContain('No voice "bob" in the library');
    expect(unknown.code).toBe(EXIT_USAGE);
    expect((await vallE(["voices", "remove", "anna"])).code).toBe(0);
    expect(JSON.parse((await vallE(["voices", "list", "--json"])).stdout)).toEqual([]);
    expect((await vallE(["voices", "remove", "anna"])).code).toBe(EXIT_USAGE);
  }, 120_000);

  for (const [signal, code] of [
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    it(`${signal} stops tts like Ctrl-C: exit ${code}, no output file`, async () => {
      const out = join(dir, `${signal}.wav`);
      const child = startVallE(
        ["tts", "One. Two. Three. Four.", "-o", out, "--model", "tiny", "--max-steps", "200"],
        env,
      );
      await child.waitFor(/no voice prompt/);
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.child.kill(signal);
      const { code: exit, stderr } = await child.exited;
      expect(exit).toBe(code);
      expect(stderr).toContain(`interrupted by ${signal}: cleaning up`);
      expect(existsSync(out)).toBe(false);
    }, 60_000);
  }

  it("-o - on a terminal is refused (binary audio would be dumped on the screen)", async () => {
    const command = [process.execPath, bin, "tts", "Hi.", "-o", "-", ...quick].map((a) => `'${a}'`).join(" ");
    const result = await new Running("script", ["-qec", command, "/dev/null"], env, 60_000).exited;
    expect(result.stdout).toContain("-o - writes binary WAV to stdout, which is a terminal here");
    expect(result.code).toBe(EXIT_USAGE);
  }, 60_000);
});
