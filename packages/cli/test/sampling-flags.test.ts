/**
 * Every sampler flag reaches the sampler: one tts run with each set to a non-default value, and run.json (what the
 * run used) records each under options.sampling. (--top-nsigma once never arrived: its commander attribute is
 * topNsigma, the setting topNSigma.)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { SAMPLER_FLAGS } from "../src/io/generation-options.js";
import { offlineEnv, vallE } from "./processes.js";

const dir = tempDir("cli-sampling-");

const VALUES: Record<string, [flag: string, value: number]> = {
  arTemperature: ["--ar-temperature", 0.9],
  narTemperature: ["--nar-temperature", 0.1],
  minArTemperature: ["--min-ar-temperature", 0.2],
  minNarTemperature: ["--min-nar-temperature", 0.05],
  topK: ["--top-k", 50],
  topP: ["--top-p", 0.9],
  minP: ["--min-p", 0.05],
  topNSigma: ["--top-nsigma", 1.5],
  repetitionPenalty: ["--repetition-penalty", 1.1],
  repetitionPenaltyDecay: ["--repetition-penalty-decay", 0.5],
  lengthPenalty: ["--length-penalty", 0.5],
  dryMultiplier: ["--dry-multiplier", 0.2],
  dryBase: ["--dry-base", 1.5],
  dryAllowedLength: ["--dry-allowed-length", 3],
  mirostatTau: ["--mirostat-tau", 3],
  mirostatEta: ["--mirostat-eta", 0.2],
  cfgStrength: ["--cfg-strength", 3],
  cfgRescale: ["--cfg-rescale", 0.5],
  beamWidth: ["--beam-width", 2],
};

describe("sampler flags", () => {
  it("the table covers every sampler flag the CLI declares", () => {
    const declared = SAMPLER_FLAGS.map(([flag]) => flag.split(" ")[0] as string);
    expect(
      Object.values(VALUES)
        .map(([flag]) => flag)
        .sort(),
    ).toEqual(declared.sort());
  });

  it("each one given is what the run used (run.json options.sampling)", async () => {
    const artifacts = join(dir, "run");
    const flags = Object.values(VALUES).flatMap(([flag, value]) => [flag, String(value)]);
    const run = await vallE(
      [
        "tts",
        "Hi.",
        "--model",
        "tiny",
        "--max-steps",
        "2",
        "-o",
        join(dir, "o.wav"),
        "--artifacts",
        artifacts,
        ...flags,
      ],
      offlineEnv(dir),
    );
    expect(run.code, run.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(artifacts, "run.json"), "utf8")) as {
      options: { sampling: Record<string, unknown> };
    };
    const expected = Object.fromEntries(Object.entries(VALUES).map(([key, [, value]]) => [key, value]));
    expect(manifest.options.sampling).toMatchObject(expected);
  });
});
