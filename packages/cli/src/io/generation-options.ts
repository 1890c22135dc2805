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
import { deviceOption } from "./device-option.js";
import { OPTION_GROUPS } from "./help.js";
import { parseDecimal } from "./numbers.js";
import { parseThreads } from "./options.js";
import { audioIn, formatDuration, formatRtf, formatStages, progressBar, StageClock } from "./progress.js";

/** Sampler flags: flag, key of SamplingOptions (its default, unit and doc are the table's), integer or not. */
export const SAMPLER_FLAGS = [
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
    const n = parseDecimal(value);
    if (n === undefined || (integer && !Number.isInteger(n))) {
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
  device?: string;
  maxDuration: number;
  maxSteps?: number;
  maxLevels: number;
  remask?: boolean;
  scoring: "probability" | "entropy";
  rasWindow?: number;
  rasRatio?: number;
  [key: string]: unknown;
}

/** The generation flags under "Generation Options:", the sampler flags under "Sampling Options:". */
export function addGenerationOptions(command: Command): Command {
  const { task, modality, seed, threads, maxDuration, maxLevels, remask, scoring } = REQUEST_SETTINGS;
  const generation = (option: Option) => command.addOption(option.helpGroup(OPTION_GROUPS.generation));
  const sampling = (option: Option) => command.addOption(option.helpGroup(OPTION_GROUPS.sampling));
  generation(new Option("--task <task>", task.doc).choices(task.choices as string[]).default(task.value));
  generation(new Option("--modality <m>", modality.doc).choices(modality.choices as string[]).default(modality.value));
  generation(new Option("--seed <n>", seed.doc).argParser(numberArg("--seed", true)));
  generation(new Option("-t, --threads <n>", helpFor(threads)).argParser(parseThreads));
  generation(deviceOption());
  generation(
    new Option("--max-duration <seconds>", maxDuration.doc)
      .argParser(numberArg("--max-duration", false))
      .default(maxDuration.value),
  );
  generation(
    new Option("--max-steps <n>", helpFor(SAMPLING_SETTINGS.maxSteps)).argParser(numberArg("--max-steps", true)),
  );
  generation(
    new Option("--max-levels <n>", maxLevels.doc).argParser(numberArg("--max-levels", true)).default(maxLevels.value),
  );
  generation(new Option("--remask", remask.doc));
  generation(new Option("--scoring <s>", scoring.doc).choices(scoring.choices as string[]).default(scoring.value));
  sampling(
    new Option("--ras-window <n>", "Repetition Aware Sampling window in tokens, AR (default: off)").argParser(
      numberArg("--ras-window", true),
    ),
  );
  sampling(new Option("--ras-ratio <r>", helpFor(RAS_RATIO_SETTING)).argParser(numberArg("--ras-ratio", false)));
  for (const [flag, key, integer] of SAMPLER_FLAGS) {
    sampling(
      new Option(flag, helpFor(SAMPLING_SETTINGS[key])).argParser(numberArg(flag.split(" ")[0] as string, integer)),
    );
  }
  return command;
}

/** The sampler flags given, as SamplingOptions (each checked, the message naming its flag). */
export async function samplingFrom(options: GenerationFlags): Promise<Record<string, unknown>> {
  const { resolveSampling } = await import("@vall-e/lm");
  // Sampler settings, checked up front with the flag's name in the message.
  const sampling: Record<string, unknown> = {};
  for (const [flag, key] of SAMPLER_FLAGS) {
    // commander's attribute of the flag (`--top-nsigma` → topNsigma), which is not always the setting's name.
    const attribute = (flag.split(" ")[0] as string).slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const value = options[attribute];
    if (value === undefined) continue;
    sampling[key] = value;
    try {
      resolveSampling({ [key]: value });
    } catch (error) {
      throw new InvalidArgumentError((error as Error).message.replace(`sampling.${key}`, flag.split(" ")[0] as string));
    }
  }
  if (options.maxSteps !== undefined) sampling.maxSteps = options.maxSteps;
  if (options.rasRatio !== undefined) {
    if (!RAS_RATIO_SETTING.valid(options.rasRatio)) {
      throw new InvalidArgumentError(
        `Expected ${RAS_RATIO_SETTING.domain} for --ras-ratio, got ${JSON.stringify(options.rasRatio)}`,
      );
    }
    if (options.rasWindow === undefined) {
      throw new InvalidArgumentError(
        "--ras-ratio applies to Repetition Aware Sampling, which is off without --ras-window: give --ras-window too",
      );
    }
  }
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

/** A progress event of generation: a stage of one sentence of tts, or of the one utterance of generate. */
export interface StageEvent {
  stage: string;
  step: number;
  total: number;
  /** 0-based. */
  sentence?: number;
  sentences?: number;
  /** Sentences generated together (tts --sentence-batch): `count` from `first` on. */
  batch?: { first: number; count: number };
}

/** The stages before the first sentence is generated (reported on one line). */
const SETUP_STAGES = new Set(["phonemize", "prompt"]);
/** EnCodec frames per second of audio: the AR stage's step is its frame count. */
const FRAMES_PER_SECOND = 75;

export interface GenerationProgress {
  /** The timed work starts now (after the model files are resolved, or downloaded). */
  start(): void;
  update(event: StageEvent): void;
  /** A sentence is decoded: `audioSeconds` of it came out. */
  sentenceDone(index: number, audioSeconds: number): void;
  /** The run is done: `audioSeconds` in all. */
  finish(audioSeconds: number): void;
  stop(): void;
}

/**
 * Generation progress on stderr. On a terminal: a bar per stage with its ETA and the real-time factor so far. Otherwise
 * (a file, a pipe; not --quiet) one line per sentence and for the run, each with its seconds and RTF:
 *
 *     [tts] setup: load+phonemize 0.41 s, prompt 0.05 s
 *     [tts] sentence 1/2: len 0.01 s, nar-len 0.80 s, nar 0.31 s, decode 0.12 s; 1.20 s audio in 1.24 s (RTF 1.03)
 *     [tts] total: 2.40 s audio in 2.75 s (RTF 1.15)
 *     [generate] len 0.01 s, nar-len 0.50 s, nar 0.20 s; 1.23 s audio in 0.71 s (RTF 0.58)
 *
 * Sentences generated together (a batch) are one line, and one bar per stage: "sentences 1–3/5: …", "1–3/5 nar-len".
 *
 * With -v, also a line as each stage starts. `loads`: the first stage includes loading the models (named load+…).
 */
export async function createProgress(
  context: CommandContext,
  options: { label: string; loads?: boolean },
): Promise<GenerationProgress> {
  const { output } = context;
  const clock = new StageClock();
  const tag = `[${options.label}]`;
  /** Sentences of the run (from the events); 0: not sentence by sentence (generate). */
  let sentences = 0;
  /** Seconds of audio of the sentences done (the run's seconds when the last was), and generated so far of the
   * current one (AR: its frames; NAR-len knows none before it is done). */
  let audio = 0;
  let audioAt = 0;
  let partial = 0;
  let setupOpen = false;
  let first = true;
  /** The batch the sentences being generated belong to (more than one sentence), and its audio so far. */
  let batch: { first: number; count: number; audio: number } | undefined;
  const label = (e: StageEvent) => {
    if (e.sentence === undefined || e.sentences === undefined) return e.stage;
    // A batch's steps are the whole batch's; its AR steps each sentence's own.
    if (e.batch && e.batch.count > 1 && e.stage !== "ar")
      return `${e.batch.first + 1}–${e.batch.first + e.batch.count}/${e.sentences} ${e.stage}`;
    return `${e.sentence + 1}/${e.sentences} ${e.stage}`;
  };
  const bar = await progressBar<StageEvent>(context, {
    // (cli-progress's own {eta} counts from the bar's start and says NULL / INF; this one is the stage's pace.)
    format: "{stage} [{bar}] {value}/{total} | ETA {etaText} | RTF {rtf}",
    key: label,
    total: (e) => e.total,
    value: (e) => e.step,
    payload: (e) => ({
      stage: label(e).padEnd(7),
      etaText: e.step > 0 ? formatDuration((clock.stageElapsed() / e.step) * (e.total - e.step)) : "?",
      // From half a second of audio on (the first frames alone say little); without audio of this sentence yet, the
      // sentences done: the time since would count against audio not known yet.
      rtf:
        audio + partial < 0.5
          ? "-"
          : partial > 0
            ? formatRtf(clock.elapsed(), audio + partial)
            : formatRtf(audioAt, audio),
    }),
    line: (e) => output.debug(`${label(e)}…`),
  });
  // Lines only without a bar (and none with --quiet: output.info and output.debug print nothing then).
  const report = (message: string) => {
    if (!bar.drawn) output.info(message);
  };
  return {
    start: () => clock.restart(),
    update: (e) => {
      if (e.sentences !== undefined) sentences = e.sentences;
      if (e.batch && e.batch.count > 1 && batch?.first !== e.batch.first) batch = { ...e.batch, audio: 0 };
      const setup = SETUP_STAGES.has(e.stage);
      if (setupOpen && !setup) {
        report(`${tag} setup: ${formatStages(clock.take().stages)}`);
        setupOpen = false;
      }
      if (setup) setupOpen = true;
      const key = setup ? `setup ${e.stage}` : `${e.sentence ?? 0} ${e.stage}`;
      clock.event(key, first && options.loads ? `load+${e.stage}` : e.stage);
      first = false;
      if (e.stage === "ar") partial = e.step / FRAMES_PER_SECOND;
      bar.update(e);
    },
    sentenceDone: (index, audioSeconds) => {
      audio += audioSeconds;
      audioAt = clock.elapsed();
      partial = 0;
      const of = Math.max(sentences, index + 1);
      if (batch && index >= batch.first && index < batch.first + batch.count) {
        // A batch: one line when its last sentence is decoded, each stage's runs added up.
        batch.audio += audioSeconds;
        if (index < batch.first + batch.count - 1) return;
        const { stages, seconds } = clock.take();
        const merged: [string, number][] = [];
        for (const [name, time] of stages) {
          const last = merged.at(-1);
          if (last?.[0] === name) last[1] += time;
          else merged.push([name, time]);
        }
        const done = merged.length > 0 ? `${formatStages(merged)}; ` : "";
        report(`${tag} sentences ${batch.first + 1}–${index + 1}/${of}: ${done}${audioIn(batch.audio, seconds)}`);
        batch = undefined;
        return;
      }
      const { stages, seconds } = clock.take();
      const done = stages.length > 0 ? `${formatStages(stages)}; ` : "";
      report(`${tag} sentence ${index + 1}/${of}: ${done}${audioIn(audioSeconds, seconds)}`);
    },
    finish: (audioSeconds) => {
      const { stages } = clock.take();
      if (sentences === 0 && stages.length > 0)
        report(`${tag} ${formatStages(stages)}; ${audioIn(audioSeconds, clock.elapsed())}`);
      else report(`${tag} total: ${audioIn(audioSeconds, clock.elapsed())}`);
    },
    stop: () => bar.stop(),
  };
}

/** The flag a library option name stands for: maxDuration → --max-duration, sampling.topP → --top-p, language → --lang. */
export function flagFor(name: string): string {
  const bare = name.replace(/^sampling\./, "");
  if (bare === "language") return "--lang";
  if (bare === "repetitionAware" || bare === "repetitionAware.window") return "--ras-window";
  if (bare === "repetitionAware.ratio") return "--ras-ratio";
  // A sampler's flag as declared (--top-nsigma for topNSigma), not one made up from the setting's name.
  const sampler = SAMPLER_FLAGS.find(([, key]) => key === bare);
  if (sampler) return sampler[0].split(" ")[0] as string;
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
