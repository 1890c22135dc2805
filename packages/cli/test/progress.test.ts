/**
 * Progress when stderr is not a terminal (a file, a pipe): one line per sentence and for the run, each with its
 * seconds and the real-time factor (processing seconds per second of audio), on stderr only; none with --quiet.
 * On the tiny bundle, offline.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_OK } from "../src/exit-codes.js";
import { audioIn, formatDuration, formatRtf, formatStages, StageClock } from "../src/io/progress.js";
import { offlineEnv, vallE } from "./processes.js";

const dir = tempDir("cli-progress-");
const env = offlineEnv(dir);
const tiny = ["--model", "tiny", "--codec", "tiny", "--vocos", "tiny"];
const limits = ["--max-steps", "3", "--max-duration", "0.8", "--lang", "en", "-t", "2", "--seed", "4"];
const TEXT = "Hello there. Bye now.";

const WARNING = "warning: using the tiny bundle — random weights for offline runs and tests: the audio is noise";
const NO_VOICE = "no voice prompt (--prompt): speaking in a voice of the model's own choosing";
const S = String.raw`\d+\.\d\d`;
/** `1.20 s audio in 2.10 s (RTF 1.75)`, its numbers captured. */
const AUDIO_IN = String.raw`(${S}) s audio in (${S}) s \(RTF (${S})\)`;
const stages = (...names: string[]) => names.map((name) => `${name} ${S} s`).join(", ");

/** The RTF printed is the seconds over the audio, to the rounding of the three (each to 0.005). */
function expectRtf(audio: string, seconds: string, rtf: string): void {
  const [a, s] = [Number(audio), Number(seconds)];
  expect(a).toBeGreaterThan(0.01);
  const rounding = 0.005 + (0.005 * (a + s + 0.01)) / (a * (a - 0.005));
  expect(Math.abs(s / a - Number(rtf))).toBeLessThanOrEqual(rounding + 1e-9);
}

describe("tts with stderr not a terminal", () => {
  const out = join(dir, "out.wav");
  const run = join(dir, "run");
  let stderr = "";

  beforeAll(async () => {
    const result = await vallE(["tts", TEXT, "-o", out, "--artifacts", run, ...tiny, ...limits], env);
    expect(result.code, result.stderr).toBe(EXIT_OK);
    expect(result.stdout).toBe("");
    stderr = result.stderr;
  }, 120_000);

  it("prints a line for the setup, each sentence and the run, with seconds and RTF", () => {
    const lines = stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(7);
    expect(lines[0]).toBe(WARNING);
    expect(lines[1]).toBe(NO_VOICE);
    expect(lines[2]).toMatch(new RegExp(`^\\[tts\\] setup: ${stages("load\\+phonemize", "prompt")}$`));
    const sentence = (n: number) =>
      new RegExp(`^\\[tts\\] sentence ${n}/2: ${stages("len", "nar-len", "nar", "decode")}; ${AUDIO_IN}$`);
    const first = sentence(1).exec(lines[3] as string);
    const second = sentence(2).exec(lines[4] as string);
    const total = new RegExp(`^\\[tts\\] total: ${AUDIO_IN}$`).exec(lines[5] as string);
    expect([first, second, total].map(Boolean), lines.join("\n")).toEqual([true, true, true]);
    const [, audio1, seconds1, rtf1] = first as RegExpExecArray;
    const [, audio2, seconds2, rtf2] = second as RegExpExecArray;
    const [, audio, seconds, rtf] = total as RegExpExecArray;
    expectRtf(audio1 as string, seconds1 as string, rtf1 as string);
    expectRtf(audio2 as string, seconds2 as string, rtf2 as string);
    expectRtf(audio as string, seconds as string, rtf as string);
    // The sentences' audio is the whole; their seconds are part of the run's (which also loads the models).
    expect(Math.abs(Number(audio1) + Number(audio2) - Number(audio))).toBeLessThanOrEqual(0.011);
    expect(Number(seconds1) + Number(seconds2)).toBeLessThanOrEqual(Number(seconds) + 0.011);
    expect(lines[6]).toBe(`wrote ${out}: ${audio} s, 2 sentence(s); seed 4; artifacts in ${run}`);
  });

  it("--quiet prints nothing at all", async () => {
    const quiet = join(dir, "quiet.wav");
    const result = await vallE(["--quiet", "tts", TEXT, "-o", quiet, ...tiny, ...limits], env);
    expect(result).toMatchObject({ code: EXIT_OK, stdout: "", stderr: "" });
    expect(existsSync(quiet)).toBe(true);
  }, 60_000);

  it("-o -: the WAV alone on stdout, the lines on stderr; AR+NAR stages", async () => {
    const result = await vallE(["tts", "Hello there.", "-o", "-", "--modality", "ar+nar", ...tiny, ...limits], env);
    expect(result.code, result.stderr).toBe(EXIT_OK);
    expect(result.stdout.startsWith("RIFF")).toBe(true);
    expect(result.stdout).not.toContain("[tts]");
    expect(result.stderr).toMatch(
      new RegExp(`\\n\\[tts\\] sentence 1/1: ${stages("ar", "nar", "decode")}; ${AUDIO_IN}\\n\\[tts\\] total: `),
    );
    expect(result.stderr).toMatch(/\nspoke \d+\.\d\d s, 1 sentence\(s\); seed 4\n$/);
  }, 60_000);

  it("decoding only: the model loading is part of the first stage", async () => {
    const result = await vallE(
      ["tts", "--response-codes", join(run, "001.codes.npy"), "-o", join(dir, "decoded.wav"), "--vocos", "tiny"],
      env,
    );
    expect(result.code, result.stderr).toBe(EXIT_OK);
    expect(result.stderr).toMatch(
      new RegExp(`^${WARNING}\\n\\[tts\\] sentence 1/1: ${stages("load\\+decode")}; ${AUDIO_IN}\\n\\[tts\\] total: `),
    );
  }, 60_000);

  it("--sentence-batch: the sentences generated together are one line, each stage once; -v names the batch", async () => {
    const text = "One here. Two there. Three now.";
    const args = ["tts", text, "-o", join(dir, "batch.wav"), "--sentence-batch", "2", ...tiny, ...limits];
    const result = await vallE(["-v", ...args], env);
    expect(result.code, result.stderr).toBe(EXIT_OK);
    const lines = result.stderr.trimEnd().split("\n");
    const batch = new RegExp(`^\\[tts\\] sentences 1–2/3: ${stages("len", "nar-len", "nar", "decode")}; ${AUDIO_IN}$`);
    const third = new RegExp(`^\\[tts\\] sentence 3/3: ${stages("len", "nar-len", "nar", "decode")}; ${AUDIO_IN}$`);
    const found = [lines.find((l) => batch.test(l)), lines.find((l) => third.test(l))];
    expect(found.map(Boolean), lines.join("\n")).toEqual([true, true]);
    const [, audio, seconds, rtf] = batch.exec(found[0] as string) as RegExpExecArray;
    expectRtf(audio as string, seconds as string, rtf as string);
    for (const stage of ["1–2/3 len…", "1–2/3 nar-len…", "1–2/3 nar…", "1/3 decode…", "2/3 decode…", "3/3 len…"]) {
      expect(lines).toContain(stage);
    }
    expect(lines).not.toContain("2/3 len…");
  }, 60_000);

  it("-v adds a line as each stage starts", async () => {
    const result = await vallE(["-v", "tts", "Hello there.", "-o", join(dir, "v.wav"), ...tiny, ...limits], env);
    expect(result.code, result.stderr).toBe(EXIT_OK);
    const lines = result.stderr.split("\n");
    for (const stage of ["1/1 phonemize…", "1/1 prompt…", "1/1 len…", "1/1 nar-len…", "1/1 nar…", "1/1 decode…"]) {
      expect(lines).toContain(stage);
    }
    expect(lines.findIndex((l) => l.startsWith("[tts] sentence 1/1: "))).toBeGreaterThan(lines.indexOf("1/1 decode…"));
  }, 60_000);

  it("generate: a line of its stages, the audio its codes make and the RTF, then its summary; -v adds each stage's start", async () => {
    const codes = join(dir, "g.codes.npy");
    const phonemes = join(run, "001.phonemes.json");
    const args = ["--phonemes", phonemes, "-o", codes, "--model", "tiny", "--max-steps", "3", "--seed", "4", "-t", "2"];
    const summary = String.raw`wrote ${codes}: 8 × \d+ codes \((${S}) s, nar-len\); seed 4`;
    const plain = await vallE(["generate", ...args, "--max-duration", "0.8"], env);
    expect(plain.code, plain.stderr).toBe(EXIT_OK);
    const stageLine = `\\[generate\\] ${stages("len", "nar-len", "nar")}; ${AUDIO_IN}`;
    expect(plain.stderr).toMatch(new RegExp(`^${WARNING}\n${stageLine}\n${summary}\n$`));

    const verbose = await vallE(["-v", "generate", ...args, "--max-duration", "0.8"], env);
    expect(verbose.code, verbose.stderr).toBe(EXIT_OK);
    const lines = verbose.stderr.trimEnd().split("\n");
    expect(lines.slice(1, 5)).toEqual([WARNING, "len…", "nar-len…", "nar…"]);
    const line = new RegExp(`^\\[generate\\] ${stages("len", "nar-len", "nar")}; ${AUDIO_IN}$`).exec(
      lines[5] as string,
    );
    expect(line, lines[5]).not.toBeNull();
    const [, audio, seconds, rtf] = line as RegExpExecArray;
    expectRtf(audio as string, seconds as string, rtf as string);
    expect(new RegExp(`^${summary}$`).exec(lines[6] as string)?.[1]).toBe(audio);
    expect(lines).toHaveLength(7);
  }, 60_000);
});

describe("the pieces of a line", () => {
  it("StageClock: a stage lasts from the previous stage's last event to its own last", () => {
    let now = 1000;
    const clock = new StageClock(() => now);
    now = 1100;
    clock.event("a", "load+phonemize");
    now = 1150;
    clock.event("a", "ignored: the same stage");
    now = 1400;
    clock.event("b", "prompt");
    expect(clock.take()).toEqual({
      stages: [
        ["load+phonemize", 0.15],
        ["prompt", 0.25],
      ],
      seconds: 0.4,
    });
    now = 1500;
    clock.event("c", "decode");
    now = 1600;
    expect(clock.stageElapsed()).toBeCloseTo(0.2);
    expect(clock.take()).toEqual({ stages: [["decode", 0.1]], seconds: 0.1 });
    expect(clock.elapsed()).toBeCloseTo(0.6);
    clock.restart();
    expect(clock.elapsed()).toBe(0);
    expect(clock.take()).toEqual({ stages: [], seconds: 0 });
  });

  it("formats", () => {
    expect(
      formatStages([
        ["len", 0.012],
        ["nar-len", 0.8],
      ]),
    ).toBe("len 0.01 s, nar-len 0.80 s");
    expect(audioIn(1.2, 2.1)).toBe("1.20 s audio in 2.10 s (RTF 1.75)");
    expect(formatRtf(1, 0)).toBe("-");
    expect([formatDuration(undefined), formatDuration(12.4), formatDuration(65), formatDuration(3725)]).toEqual([
      "?",
      "12s",
      "1m05s",
      "1h02m05s",
    ]);
  });
});
