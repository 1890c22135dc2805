/**
 * `vall-e generate --json` (the drawn seed, shapes, timings), `tts --task ns|sr` without a text, and replay checking
 * every input file of run.json (the voice, the --text-file) by size and SHA-256, on the tiny bundle.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../src/exit-codes.js";
import { offlineEnv, startVallE, vallE, writeSineWav } from "./processes.js";

const dir = tempDir("cli-json-replay-");
const env = offlineEnv(dir);
const voice = writeSineWav(join(dir, "voice.wav"), 12000, 16000, 11);
const limits = ["--max-steps", "2", "--max-duration", "0.6", "--lang", "en", "--prompt-seconds", "0.4", "-t", "2"];
const generateLimits = ["--max-steps", "2", "--max-duration", "0.6", "-t", "2"];
const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

beforeAll(async () => {
  const pulled = await vallE(["models", "pull", "--tiny"], env);
  expect(pulled.code, pulled.stderr).toBe(EXIT_OK);
});

describe("vall-e generate --json", () => {
  it("prints the drawn seed, the shapes and the timings; the seed repeats the run; -o - is refused", async () => {
    const phonemes = join(dir, "hi.phonemes.json");
    const prompt = join(dir, "voice.codes.npy");
    expect(
      (await vallE(["phonemize", "Hi there.", "--lang", "en", "--tokenizer", "tiny", "-o", phonemes], env)).code,
    ).toBe(EXIT_OK);
    expect((await vallE(["encode", voice, "-o", prompt, "--codec", "tiny"], env)).code).toBe(EXIT_OK);
    const args = (out: string) => [
      "generate",
      "--phonemes",
      phonemes,
      "--prompt",
      prompt,
      "-o",
      out,
      "--model",
      "tiny",
    ];
    const first = join(dir, "first.codes.npy");
    const run = await vallE([...args(first), ...generateLimits, "--json"], env);
    expect(run.code, run.stderr).toBe(EXIT_OK);
    const summary = JSON.parse(run.stdout);
    const artifact = JSON.parse(readFileSync(`${first}.json`, "utf8"));
    const tokens = JSON.parse(readFileSync(phonemes, "utf8")).tokens.length;
    const promptFrames = JSON.parse(readFileSync(`${prompt}.json`, "utf8")).frames;
    expect(summary).toEqual({
      output: first,
      seed: expect.any(Number),
      modality: "nar-len",
      predictedFrames: expect.any(Number),
      codebooks: 8,
      frames: artifact.frames,
      seconds: artifact.frames / 75,
      phonemes: { tokens, language: "en" },
      prompt: { codebooks: 8, frames: promptFrames },
      model: join(dir, "cache", "vall-e", "tiny", "vall_e-tiny.gguf"),
      timings: { load: expect.any(Number), generate: expect.any(Number), total: expect.any(Number) },
    });
    expect(summary.timings.total).toBeGreaterThanOrEqual(summary.timings.load + summary.timings.generate);
    expect(run.stderr).toContain(`seed ${summary.seed}`);
    // The drawn seed, given back, makes the same codes.
    const again = join(dir, "again.codes.npy");
    const repeated = await vallE([...args(again), ...generateLimits, "--seed", String(summary.seed), "--json"], env);
    expect(JSON.parse(repeated.stdout)).toMatchObject({ seed: summary.seed, frames: summary.frames });
    expect(readFileSync(again)).toEqual(readFileSync(first));

    expect(await vallE([...args("-"), "--json"], env)).toMatchObject({
      code: EXIT_USAGE,
      stdout: "",
      stderr: "error: --json prints on stdout; write the codes to a file (-o FILE)\n",
    });
  });
});

describe("vall-e tts --task ns | sr", () => {
  it("runs without a text (the empty transcript), and replays", async () => {
    for (const task of ["ns", "sr"]) {
      const out = join(dir, `${task}.wav`);
      const artifacts = join(dir, `${task}-run`);
      const run = await vallE(
        ["tts", "--task", task, "--prompt", voice, "-o", out, "--model", "tiny", "--artifacts", artifacts, ...limits],
        env,
      );
      expect(run.code, run.stderr).toBe(EXIT_OK);
      const manifest = JSON.parse(readFileSync(join(artifacts, "run.json"), "utf8"));
      expect(manifest.inputs).toEqual({ text: "", reference: [voice] });
      expect(manifest.options.task).toBe(task);
      const replayed = join(dir, `${task}-again.wav`);
      const replay = await vallE(["tts", "--replay", join(artifacts, "run.json"), "-o", replayed, "-t", "2"], env);
      expect(replay.code, replay.stderr).toBe(EXIT_OK);
      expect(readFileSync(replayed)).toEqual(readFileSync(out));
    }
    expect(await vallE(["tts", "--task", "ns", "-o", join(dir, "x.wav"), "--model", "tiny"], env)).toMatchObject({
      code: EXIT_USAGE,
      stderr: "error: The ns task needs the noisy audio as the reference (--prompt)\n",
    });
  });
});

describe("vall-e tts --sentence-batch", () => {
  it("generates sentences together with the same WAV as one by one; run.json records it; a rolling context refuses it", async () => {
    const text = "One here. Two there. And three now.";
    const outs: Buffer[] = [];
    for (const batch of ["0", "3"]) {
      const out = join(dir, `batch-${batch}.wav`);
      const artifacts = join(dir, `batch-${batch}-run`);
      const args = ["tts", text, "--prompt", voice, "-o", out, "--model", "tiny", "--seed", "4", ...limits];
      const run = await vallE([...args, "--sentence-batch", batch, "--artifacts", artifacts], env);
      expect(run.code, run.stderr).toBe(EXIT_OK);
      expect(JSON.parse(readFileSync(join(artifacts, "run.json"), "utf8")).options.sentenceBatch).toBe(
        batch === "0" ? 1 : 3, // auto on the CPU: one by one
      );
      outs.push(readFileSync(out));
    }
    expect(outs[1]).toEqual(outs[0]);
    const refused = join(dir, "refused.wav");
    expect(
      await vallE(
        ["tts", text, "-o", refused, "--model", "tiny", "--sentence-batch", "2", "--context-history", "1"],
        env,
      ),
    ).toMatchObject({
      code: EXIT_USAGE,
      stderr:
        "error: sentenceBatch 2 and contextHistory 1 do not go together: with a rolling context each sentence continues from the ones before it, so they are generated one by one (sentenceBatch 0 or 1)\n",
    });
    expect(await vallE(["tts", text, "-o", refused, "--sentence-batch", "33"], env)).toMatchObject({
      code: EXIT_USAGE,
      stderr: 'error: Expected an integer from 0 to 32 for --sentence-batch, got "33"\n',
    });
  });
});

describe("vall-e tts --replay checks the input files", () => {
  it("records the voice and the --text-file with their SHA-256; a changed one is refused, naming it", async () => {
    const textFile = join(dir, "text.txt");
    writeFileSync(textFile, "Hello there.\n");
    const mine = join(dir, "my-voice.wav");
    copyFileSync(voice, mine);
    const artifacts = join(dir, "text-run");
    const out = join(dir, "text.wav");
    const run = await vallE(
      [
        "tts",
        "--text-file",
        textFile,
        "--prompt",
        mine,
        "-o",
        out,
        "--model",
        "tiny",
        "--artifacts",
        artifacts,
        ...limits,
      ],
      env,
    );
    expect(run.code, run.stderr).toBe(EXIT_OK);
    const manifestPath = join(artifacts, "run.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    expect(manifest.inputs).toEqual({ text: "Hello there.\n", textFile, reference: [mine] });
    expect(manifest.inputChecksums).toEqual({
      textFile: { sha256: sha256(textFile), bytes: 13 },
      reference: [{ sha256: sha256(mine), bytes: readFileSync(mine).length }],
    });
    const inspected = await vallE(["inspect", manifestPath], env);
    expect(inspected.stdout).toContain(`\ntextFile: ${textFile} (sha256 ${sha256(textFile).slice(0, 12)}…)\n`);
    expect(inspected.stdout).toContain(`\nreference: ${mine} (sha256 ${sha256(mine).slice(0, 12)}…)\n`);
    const replayed = join(dir, "text-again.wav");
    const replay = () => vallE(["tts", "--replay", manifestPath, "-o", replayed, "-t", "2"], env);
    expect((await replay()).code).toBe(EXIT_OK);
    expect(readFileSync(replayed)).toEqual(readFileSync(out));

    const recorded = sha256(mine);
    writeSineWav(mine, 12000, 16000, 12);
    expect(await replay()).toMatchObject({
      code: EXIT_FAILURE,
      stdout: "",
      stderr: `error: ${mine} is not the voice prompt file the run used: its SHA-256 is ${sha256(mine)}, the run recorded ${recorded}\n`,
    });
    copyFileSync(voice, mine);
    writeFileSync(textFile, "Hello there!\n");
    expect(await replay()).toMatchObject({
      code: EXIT_FAILURE,
      stderr: `error: ${textFile} is not the text file the run used: its SHA-256 is ${sha256(textFile)}, the run recorded ${manifest.inputChecksums.textFile.sha256}\n`,
    });
    writeFileSync(textFile, "Hi.\n");
    expect(await replay()).toMatchObject({
      code: EXIT_FAILURE,
      stderr: `error: ${textFile} is not the text file the run used: it has 4 bytes, the run recorded 13\n`,
    });
    // A run.json from before input files were recorded replays unchecked.
    const { inputChecksums: _sums, ...old } = manifest;
    writeFileSync(manifestPath, JSON.stringify(old));
    expect((await replay()).code).toBe(EXIT_OK);
    expect(readFileSync(replayed)).toEqual(readFileSync(out));
  });

  it("a text read from a FIFO is in run.json, the FIFO is not (it cannot be read again)", async () => {
    const fifo = join(dir, "text.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const artifacts = join(dir, "fifo-run");
    const running = startVallE(
      ["tts", "--text-file", fifo, "-o", join(dir, "fifo.wav"), "--model", "tiny", "--artifacts", artifacts, ...limits],
      env,
    );
    await writeFile(fifo, "Hi.");
    const run = await running.exited;
    expect(run.code, run.stderr).toBe(EXIT_OK);
    const manifest = JSON.parse(readFileSync(join(artifacts, "run.json"), "utf8"));
    expect(manifest.inputs).toEqual({ text: "Hi.", reference: [] });
    expect(manifest.inputChecksums).toBeUndefined();
  });
});
