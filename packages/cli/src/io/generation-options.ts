/**
 * The generation flags `vall-e generate` and `vall-e tts` share — modality, seed, threads, limits, NAR-len options,
 * every sampler with its default and unit — their parsing into SamplingOptions (a value outside its domain names the
 * flag), and the progress display on stderr.
 */
import {
  describeDefault,
  InvalidArgumentError,
  RAS_RATIO_SETTING,
  REQUEST_SETTINGS,
  SAMPLING_SETTINGS,
  type SamplingSettingName,
  type Setting,
} from "@vall-e/core";
import { type Command, Option } from "commander";
import type { CommandContext } from "../context.js";
import { parseThreads } from "./options.js";
import { progressBar } from "./progress.js";

/** Sampler flags: flag, key of SamplingOptions (its default, unit and doc are the table's), integer or not. */
const SAMPLER_FLAGS = [
  ["--ar-temperature <t>", "arTemperature", false],
  ["--nar-temperature <t>", "narTemperature", false],
  ["--min-ar-temperature <t>", "minArTemperature", false],
  ["--min-nar-temperature <t>", "minNarTemperature", false],
  ["--top-k <k>", "topK", true],
  ["--top-p <p>", "topP", false],
  ["--min-p <p>", "minP", false],
  ["--top-nsigma <n>", "topNSigma", false],
  ["--repetition-penalty <f>", "repetitionPenalty", false],
  ["--repetition-penalty-decay <d>", "repetitionPenaltyDecay", false],
  ["--length-penalty <e>", "lengthPenalty", false],
  ["--dry-multiplier <m>", "dryMultiplier", false],
  ["--dry-base <b>", "dryBase", false],
  ["--dry-allowed-length <n>", "dryAllowedLength", true],
  ["--mirostat-tau <bits>", "mirostatTau", false],
  ["--mirostat-eta <rate>", "mirostatEta", false],
  ["--beam-width <n>", "beamWidth", true],
  ["--cfg-strength <s>", "cfgStrength", false],
  ["--cfg-rescale <r>", "cfgRescale", false],
] as const satisfies readonly (readonly [string, SamplingSettingName, boolean])[];

/** A flag's help: the table's line and its default. */
export function helpFor(setting: Setting<unknown>): string {
  const shown = describeDefault(setting);
  return shown === "" ? setting.doc : `${setting.doc} ${shown}`;
}

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
  const { task, modality, seed, threads, maxDuration, maxLevels, remask, scoring } = REQUEST_SETTINGS;
  command
    .addOption(new Option("--task <task>", task.doc).choices(task.choices as string[]).default(task.value))
    .addOption(new Option("--modality <m>", modality.doc).choices(modality.choices as string[]).default(modality.value))
    .option("--seed <n>", seed.doc, numberArg("--seed", true))
    .option("-t, --threads <n>", helpFor(threads), parseThreads)
    .option("--max-duration <seconds>", maxDuration.doc, numberArg("--max-duration", false), maxDuration.value)
    .option("--max-steps <n>", helpFor(SAMPLING_SETTINGS.maxSteps), numberArg("--max-steps", true))
    .option("--max-levels <n>", maxLevels.doc, numberArg("--max-levels", true), maxLevels.value)
    .option("--remask", remask.doc)
    .addOption(new Option("--scoring <s>", scoring.doc).choices(scoring.choices as string[]).default(scoring.value))
    .option(
      "--ras-window <n>",
      "Repetition Aware Sampling window in tokens (AR; off by default)",
      numberArg("--ras-window", true),
    )
    .option("--ras-ratio <r>", helpFor(RAS_RATIO_SETTING), numberArg("--ras-ratio", false));
  for (const [flag, key, integer] of SAMPLER_FLAGS) {
    command.option(flag, helpFor(SAMPLING_SETTINGS[key]), numberArg(flag.split(" ")[0] as string, integer));
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
    sampling.repetitionAware = { window: options.rasWindow, ratio: options.rasRatio ?? RAS_RATIO_SETTING.value };

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

/** The flag a library option name stands for: maxDuration → --max-duration, sampling.topP → --top-p, language → --lang. */
export function flagFor(name: string): string {
  const bare = name.replace(/^sampling\./, "");
  if (bare === "language") return "--lang";
  if (bare === "repetitionAware" || bare === "repetitionAware.window") return "--ras-window";
  if (bare === "repetitionAware.ratio") return "--ras-ratio";
  return `--${bare.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Check every generation setting before any model is resolved (or downloaded): the library's own rules
 * (@vall-e/pipeline resolveRequest), the message naming the flag the user typed.
 */
export async function checkGeneration(settings: Record<string, unknown>): Promise<void> {
  const { resolveRequest } = await import("@vall-e/pipeline");
  try {
    resolveRequest({ text: "", ...settings });
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    const message = error.message.replace(
      / for ((?:sampling\.)?[a-zA-Z]+(?:\.[a-zA-Z]+)?)(, got|$)/,
      (_, name: string, end: string) => ` for ${flagFor(name)}${end}`,
    );
    throw new InvalidArgumentError(message, { cause: error });
  }
}
