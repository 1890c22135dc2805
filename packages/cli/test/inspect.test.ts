/** `vall-e inspect`, and the --json summaries of encode / decode, on the tiny bundle's GGUF and Vocos weights and on a run.json; an invalid model is an error. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../src/exit-codes.js";
import { offlineEnv, vallE } from "./processes.js";

const dir = tempDir("cli-inspect-");
const env = offlineEnv(dir);
const tiny = join(dir, "cache", "vall-e", "tiny");

beforeAll(async () => {
  const pulled = await vallE(["models", "pull", "--tiny"], env);
  expect(pulled.code, pulled.stderr).toBe(EXIT_OK);
});

describe("vall-e inspect", () => {
  it("describes a VALL-E GGUF (loaded and validated)", async () => {
    const run = await vallE(["inspect", join(tiny, "vall_e-tiny.gguf"), "--json"], env);
    expect(run.code, run.stderr).toBe(EXIT_OK);
    expect(JSON.parse(run.stdout)).toMatchObject({
      kind: "gguf",
      layers: 2,
      width: 64,
      vocabulary: 17702,
      weightType: "F16",
      outputBiases: true,
    });
  });

  it("describes Vocos weights and a run.json", async () => {
    const vocos = await vallE(["inspect", join(tiny, "vocos-tiny.pt"), "--json"], env);
    expect(JSON.parse(vocos.stdout)).toMatchObject({
      kind: "vocos-weights",
      config: { layers: 2, dim: 16, nFft: 1280, codebooks: 16 },
    });
    const artifacts = join(dir, "run");
    const tts = await vallE(["tts", "Hi.", "--model", "tiny", "-o", join(dir, "a.wav"), "--artifacts", artifacts], env);
    expect(tts.code, tts.stderr).toBe(EXIT_OK);
    const run = await vallE(["inspect", join(artifacts, "run.json")], env);
    expect(run.stdout).toMatch(/^run manifest: 1 sentence\(s\), task tts, decoder vocos, seed \d+\n/);
  });

  it("a damaged model is an error, not a description", async () => {
    const cut = join(dir, "cut.gguf");
    const bytes = readFileSync(join(tiny, "vall_e-tiny.gguf"));
    writeFileSync(cut, bytes.subarray(0, bytes.length - 1000));
    const run = await vallE(["inspect", cut], env);
    expect(run.code).toBe(EXIT_FAILURE);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(new RegExp(`^error: ${cut} is truncated`));
  });

  it("encode and decode print a JSON summary with --json; a bad -o is refused before any work", async () => {
    const wav = join(dir, "a.wav");
    if (!existsSync(wav)) {
      const tts = await vallE(["tts", "Hi.", "--model", "tiny", "-o", wav], env);
      expect(tts.code, tts.stderr).toBe(EXIT_OK);
    }
    const codes = join(dir, "a.codes.npy");
    const encoded = await vallE(["encode", wav, "-o", codes, "--codec", "tiny", "--json"], env);
    expect(encoded.code, encoded.stderr).toBe(EXIT_OK);
    const summary = JSON.parse(encoded.stdout);
    expect(summary).toMatchObject({ output: codes, codebooks: 8 });
    const decoded = await vallE(["decode", codes, "-o", join(dir, "b.wav"), "--vocos", "tiny", "--json"], env);
    expect(JSON.parse(decoded.stdout)).toMatchObject({
      decoder: "vocos",
      codebooks: 8,
      frames: summary.frames,
      seconds: (summary.frames * 320) / 24000,
    });
    const bad = await vallE(["encode", wav, "-o", "/nonexistent/x.npy", "--codec", "tiny"], env);
    expect(bad).toMatchObject({
      code: EXIT_USAGE,
      stderr: "error: Cannot write /nonexistent/x.npy (-o): the folder /nonexistent does not exist\n",
    });
    const both = await vallE(["decode", codes, "-o", "-", "--vocos", "tiny", "--json"], env);
    expect(both.stderr).toBe("error: --json prints on stdout; write the WAV to a file (-o FILE)\n");
  });
});
