/**
 * `vall-e decode` / `tts --response-codes` through Vocos on weights the project writes itself (the tiny random Vocos,
 * as a PyTorch state dict like the hub's pytorch_model.bin): it decodes, and every bad weight file or code matrix is a
 * typed error naming what is wrong, with nothing written.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import {
  createCodesArtifact,
  encodeTorchStateDict,
  parseWav,
  randomVocos,
  vocosConfigYaml,
  writeCodes,
} from "@vall-e/codec";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../src/exit-codes.js";
import { offlineEnv, vallE } from "./processes.js";

const dir = tempDir("cli-vocos-");
const env = offlineEnv(dir);
const model = randomVocos({ seed: 5 });
const weights = join(dir, "pytorch_model.bin");
const codes8 = join(dir, "codes8.npy");
const codes3 = join(dir, "codes3.npy");

function codes(codebooks: number, frames: number): Int16Array {
  return Int16Array.from({ length: codebooks * frames }, (_, i) => (i * 389 + 17) % 1024);
}

beforeAll(async () => {
  writeFileSync(weights, encodeTorchStateDict(model.tensors));
  writeFileSync(join(dir, "config.yaml"), vocosConfigYaml(model.config));
  await writeCodes(codes8, createCodesArtifact(codes(8, 40), 8));
  await writeCodes(codes3, createCodesArtifact(codes(3, 40), 3));
});

describe("vall-e decode through Vocos", () => {
  it("decodes a state dict written like the hub's (320 samples per frame), s16 or f32", async () => {
    const out = join(dir, "out.wav");
    const run = await vallE(["decode", codes8, "-o", out, "--vocos", weights, "--sample-format", "f32"], env);
    expect(run.code, run.stderr).toBe(EXIT_OK);
    expect(run.stderr).toBe(`wrote ${out} (0.53 s at 24000 Hz, Vocos)\n`);
    const wav = parseWav(readFileSync(out), out);
    expect([wav.sampleRate, wav.channels[0]?.length]).toEqual([24000, 40 * 320]);
    const peak = Math.max(...(wav.channels[0] as Float32Array).map(Math.abs));
    expect(peak).toBeGreaterThan(1e-3);
    // tts decoding response codes gives the same samples (16-bit here).
    const spoken = join(dir, "spoken.wav");
    const tts = await vallE(["tts", "--response-codes", codes8, "-o", spoken, "--vocos", weights], env);
    expect(tts.code, tts.stderr).toBe(EXIT_OK);
    const s16 = parseWav(readFileSync(spoken), spoken).channels[0] as Float32Array;
    expect(s16.length).toBe(40 * 320);
    expect(Math.max(...s16.map((v, i) => Math.abs(v - ((wav.channels[0] as Float32Array)[i] as number))))).toBeLessThan(
      1e-4 + 1 / 32768,
    );
  });

  it("a codebook count Vocos has no bandwidth for is refused, nothing written", async () => {
    const out = join(dir, "three.wav");
    const run = await vallE(["decode", codes3, "-o", out, "--vocos", weights], env);
    expect(run).toMatchObject({
      code: EXIT_USAGE,
      stderr: `error: ${codes3} holds 3 codebooks; Vocos decodes 2, 4, 8 or 16 (its bandwidths, 1.5 to 12 kbps): decode it with --vocoder encodec\n`,
    });
    expect(existsSync(out)).toBe(false);
  });

  const bytes = encodeTorchStateDict(model.tensors);
  const cases: [string, () => Uint8Array, RegExp][] = [
    ["not a zip", () => new TextEncoder().encode("this is not a checkpoint"), /not a PyTorch|not a zip/i],
    ["truncated", () => bytes.subarray(0, Math.floor(bytes.length / 2)), /truncated|not a zip|corrupt/i],
    [
      "missing a key",
      () => encodeTorchStateDict(model.tensors.filter((t) => t.name !== "backbone.convnext.1.pwconv2.bias")),
      /backbone\.convnext\.1\.pwconv2\.bias/,
    ],
    [
      "with a wrong shape",
      () =>
        encodeTorchStateDict(
          model.tensors.map((t) => (t.name === "head.out.bias" ? { ...t, shape: [641, 2], data: t.data } : t)),
        ),
      /head\.out\.bias/,
    ],
  ];
  it.each(cases)("a weight file %s is a typed error naming it, nothing written", async (_, make, message) => {
    const bad = join(tempDir("cli-vocos-bad-"), "pytorch_model.bin");
    writeFileSync(bad, make());
    const out = join(dir, "bad.wav");
    const run = await vallE(["decode", codes8, "-o", out, "--vocos", bad], env);
    expect(run.code).toBe(EXIT_FAILURE);
    expect(run.stderr).toContain(bad);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/at .*\.js:\d+/); // a message, not a stack
    expect(existsSync(out)).toBe(false);
  });
});
