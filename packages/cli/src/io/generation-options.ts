/**
 * The generation flags `vall-e generate` and `vall-e tts` share — modality, seed, threads, limits, NAR-len options,
 * every sampler with its default and unit — their parsing into SamplingOptions (a value outside its domain names the
 * flag), and the progress display on stderr.
 */
import { InvalidArgumentError } from "@vall-e/core";
import { type Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import { parseThreads } from "./options.js";
import { progressBar } from "./progress.js";

/** Sampler flags: flag, key of SamplingOptions, help (with unit and default), integer or not. */
const SAMPLER_FLAGS = [
  ["--ar-temperature <t>", "arTemperature", "AR / NAR-len temperature, ≤ 0 greedy (default 1)", false],
  ["--nar-temperature <t>", "narTemperature", "NAR levels 1–7 temperature, ≤ 0 greedy (default 0)", false],
  [
    "--min-ar-temperature <t>",
    "minArTemperature",
    "dynamic temperature floor for AR / NAR-len, < 0 off (default -1)",
    false,
  ],
  ["--min-nar-temperature <t>", "minNarTemperature", "dynamic temperature floor for NAR, < 0 off (default -1)", false],
  ["--top-k <k>", "topK", "keep the k most likely tokens, 0 off (default 0)", true],
  ["--top-p <p>", "topP", "nucleus probability mass in (0, 1], 1 off (default 1)", false],
  ["--min-p <p>", "minP", "min-p in [0, 1), 0 off (default 0)", false],
  ["--top-nsigma <n>", "topNSigma", "top-nσ: keep logits ≥ max − n·σ, 0 off (default 0)", false],
  ["--repetition-penalty <f>", "repetitionPenalty", "repetition penalty factor, 1 off (default 1)", false],
  [
    "--repetition-penalty-decay <d>",
    "repetitionPenaltyDecay",
    "repetition penalty distance exponent (default 0)",
    false,
  ],
  ["--length-penalty <e>", "lengthPenalty", "AR stop-token length penalty exponent, 0 off (default 0)", false],
  ["--dry-multiplier <m>", "dryMultiplier", "DRY multiplier, 0 off (default 0)", false],
  ["--dry-base <b>", "dryBase", "DRY base > 1 (default 1.75)", false],
  ["--dry-allowed-length <n>", "dryAllowedLength", "DRY allowed repeat length in tokens (default 2)", true],
  ["--mirostat-tau <bits>", "mirostatTau", "Mirostat target surprise in bits (AR), 0 off (default 0)", false],
  ["--mirostat-eta <rate>", "mirostatEta", "Mirostat learning rate (default 0.1)", false],
  ["--beam-width <n>", "beamWidth", "AR beam search width, 0 or 1 off (default 0)", true],
  [
    "--cfg-strength <s>",
    "cfgStrength",
    "CFG strength for AR / NAR, 0 off; NAR-len uses at least 2.5 (default 0)",
    false,
  ],
  ["--cfg-rescale <r>", "cfgRescale", "CFG rescale in [0, 1] (default 0.75)", false],
] as const;

function numberArg(flag: string, integer: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(
        `Expected ${integer ? "an integer" : "a number"} for ${flag}, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

export interface GenerationFlags {
  task: "tts" | "ns" | "sr";
  modality: "nar-len" | "ar+nar";
  seed?: number;
  threads?: number;
  maxDuration: number;
  maxSteps?: number;
  maxLevels: number;
  remask?: boolean;
  scoring: "probability" | "entropy";
  rasWindow?: number;
  rasRatio?: number;
  [key: string]: unknown;
}

export function addGenerationOptions(command: Command): Command {
  command
    .addOption(
      new Option(
        "--task <task>",
        "tts, or ns / sr: clean up / remove the speech of the prompt (noisy audio), as long as it is",
      )
        .choices(["tts", "ns", "sr"])
        .default("tts"),
    )
    .addOption(
      new Option("--modality <m>", "NAR-len demasking or AR then NAR")
        .choices(["nar-len", "ar+nar"])
        .default("nar-len"),
    )
    .option("--seed <n>", "random seed, 0 … 4294967295 (default: drawn, and reported)", numberArg("--seed", true))
    .option("-t, --threads <n>", "threads (default: physical cores)", parseThreads)
    .option("--max-duration <seconds>", "longest output in seconds", numberArg("--max-duration", false), 12)
    .option("--max-steps <n>", "NAR-len demasking steps (default 50)", numberArg("--max-steps", true))
    .option("--max-levels <n>", "highest RVQ level generated, 0 … 7", numberArg("--max-levels", true), 7)
    .option("--remask", "NAR-len: also remask 1/(2·steps) of the positions each step")
    .addOption(
      new Option("--scoring <s>", "NAR-len confidence: the argmax probability or 1 − normalised entropy")
        .choices(["probability", "entropy"])
        .default("probability"),
    )
    .option(
      "--ras-window <n>",
      "Repetition Aware Sampling window in tokens (AR; off by default)",
      numberArg("--ras-window", true),
    )
    .option(
      "--ras-ratio <r>",
      "Repetition Aware Sampling ratio in (0, 1] (with --ras-window; default 0.1)",
      numberArg("--ras-ratio", false),
    );
  for (const [flag, , help, integer] of SAMPLER_FLAGS) {
    command.option(flag, help, numberArg(flag.split(" ")[0] as string, integer));
  }
  return command;
}

/** The sampler flags given, as SamplingOptions (each checked, the message naming its flag). */
export async function samplingFrom(options: GenerationFlags): Promise<Record<string, unknown>> {
  const { resolveSampling } = await import("@vall-e/lm");
  // Sampler settings, checked up front with the flag's name in the message.
  const sampling: Record<string, unknown> = {};
  for (const [flag, key] of SAMPLER_FLAGS) {
    const value = options[key];
    if (value === undefined) continue;
    sampling[key] = value;
    try {
      resolveSampling({ [key]: value });
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message.replace(`sampling.${key}`, flag.split(" ")[0] as string));
    }
  }
  if (options.maxSteps !== undefined) sampling.maxSteps = options.maxSteps;
  if (options.rasWindow !== undefined)
    sampling.repetitionAware = { window: options.rasWindow, ratio: options.rasRatio ?? 0.1 };

  return sampling;
}

/** The generation settings the flags give, for LanguageModel.generate and synthesize. */
export async function generationFrom(options: GenerationFlags) {
  return {
    task: options.task,
    modality: options.modality,
    sampling: await samplingFrom(options),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    maxDuration: options.maxDuration,
    maxLevels: options.maxLevels,
    remask: options.remask === true,
    scoring: options.scoring,
    ...(options.threads ? { threads: options.threads } : {}),
  };
}

/** Generation progress: a bar per stage on a terminal's stderr; one debug line per stage change with -v otherwise. */
export function createProgress(context: CommandContext) {
  return progressBar<{ stage: string; step: number; total: number }>(context, {
    format: "{stage} [{bar}] {value}/{total}",
    key: (e) => e.stage,
    total: (e) => e.total,
    value: (e) => e.step,
    payload: (e) => ({ stage: e.stage.padEnd(7) }),
    line: (e) => context.output.debug(`${e.stage}…`),
  });
}
