/**
 * The one table of defaults: every option of a generation request with its default value, unit, domain and a line
 * of documentation. The library's option resolution (@vall-e/lm resolveSampling, @vall-e/pipeline resolveRequest),
 * the CLI's flags and `--help`, and run.json all read it; nothing else writes a default down.
 *
 * Defaults are the reference's effective ones as its web UI passes them (vall_e/webui.py → vall_e/inference.py
 * TTS.inference): AR temperature 1.0, NAR-len temperature 1.0 annealed over 50 steps with CFG 2.5 / rescale 0.75,
 * NAR levels greedy, top-nσ and every other filter off. (The web UI's AR/NAR CFG strength 1.0 is an identity that
 * only costs a pass, so it is 0 here.)
 */
import {
  GENERATION_TASKS,
  type GenerationTask,
  LANGUAGES,
  type Language,
  MODALITIES,
  type Modality,
  RVQ_LEVELS,
} from "./constants.js";
import { invalid } from "./validate.js";

export interface Setting<T> {
  /** The default (undefined: none — e.g. the seed, drawn per request). */
  readonly value: T;
  /** The unit of a number ("s", "tokens", "steps"), when it has one. */
  readonly unit?: string;
  /** The allowed values, as the error message says them: "Expected <domain> for <name>, got <value>". */
  readonly domain: string;
  /** The allowed values, as strings, when they are an enumeration. */
  readonly choices?: readonly string[];
  readonly valid: (value: unknown) => boolean;
  /** One line for help texts and documentation (without the default). */
  readonly doc: string;
}

const num = (check: (v: number) => boolean) => (v: unknown) => typeof v === "number" && Number.isFinite(v) && check(v);
const int = (min: number, max: number) => (v: unknown) =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
const oneOf = <T extends string>(choices: readonly T[]) => ({
  choices,
  domain: `one of ${choices.map((c) => JSON.stringify(c)).join(", ")}`,
  valid: (v: unknown) => typeof v === "string" && (choices as readonly string[]).includes(v),
});
const flag = { domain: "true or false", valid: (v: unknown) => typeof v === "boolean" };

/** The sampler settings (each request's `sampling`). */
export const SAMPLING_SETTINGS = {
  arTemperature: {
    value: 1,
    domain: "a number ≥ 0",
    valid: num((v) => v >= 0),
    doc: "AR / NAR-len temperature, 0 greedy",
  },
  narTemperature: {
    value: 0,
    domain: "a number ≥ 0",
    valid: num((v) => v >= 0),
    doc: "NAR levels 1–7 temperature, 0 greedy",
  },
  minArTemperature: {
    value: -1,
    domain: "a finite number",
    valid: num(() => true),
    doc: "dynamic temperature floor for AR / NAR-len, < 0 off",
  },
  minNarTemperature: {
    value: -1,
    domain: "a finite number",
    valid: num(() => true),
    doc: "dynamic temperature floor for NAR, < 0 off",
  },
  topK: {
    value: 0,
    unit: "tokens",
    domain: "an integer ≥ 0",
    valid: int(0, Number.MAX_SAFE_INTEGER),
    doc: "keep the k most likely tokens, 0 off",
  },
  topP: {
    value: 1,
    domain: "a number in (0, 1]",
    valid: num((v) => v > 0 && v <= 1),
    doc: "nucleus probability mass in (0, 1], 1 off",
  },
  minP: { value: 0, domain: "a number in [0, 1)", valid: num((v) => v >= 0 && v < 1), doc: "min-p in [0, 1), 0 off" },
  topNSigma: {
    value: 0,
    domain: "a number ≥ 0",
    valid: num((v) => v >= 0),
    doc: "top-nσ: keep logits ≥ max − n·σ, 0 off",
  },
  repetitionPenalty: {
    value: 1,
    domain: "a number > 0",
    valid: num((v) => v > 0),
    doc: "repetition penalty factor, 1 off",
  },
  repetitionPenaltyDecay: {
    value: 0,
    domain: "a finite number",
    valid: num(() => true),
    doc: "repetition penalty distance exponent",
  },
  lengthPenalty: {
    value: 0,
    domain: "a finite number",
    valid: num(() => true),
    doc: "AR stop-token length penalty exponent, 0 off",
  },
  dryMultiplier: { value: 0, domain: "a number ≥ 0", valid: num((v) => v >= 0), doc: "DRY multiplier, 0 off" },
  dryBase: { value: 1.75, domain: "a number > 1", valid: num((v) => v > 1), doc: "DRY base > 1" },
  dryAllowedLength: {
    value: 2,
    unit: "tokens",
    domain: "an integer ≥ 1",
    valid: int(1, Number.MAX_SAFE_INTEGER),
    doc: "DRY allowed repeat length in tokens",
  },
  mirostatTau: {
    value: 0,
    unit: "bits",
    domain: "a number ≥ 0",
    valid: num((v) => v >= 0),
    doc: "Mirostat target surprise in bits (AR), 0 off",
  },
  mirostatEta: { value: 0.1, domain: "a number > 0", valid: num((v) => v > 0), doc: "Mirostat learning rate" },
  beamWidth: {
    value: 0,
    domain: "an integer from 0 to 16",
    valid: int(0, 16),
    doc: "AR beam search width, 0 or 1 off",
  },
  maxSteps: {
    value: 50,
    unit: "steps",
    domain: "an integer from 1 to 1000",
    valid: int(1, 1000),
    doc: "NAR-len demasking steps",
  },
  cfgStrength: {
    value: 0,
    domain: "a number ≥ 0",
    valid: num((v) => v >= 0),
    doc: "CFG strength for AR / NAR, 0 off; NAR-len uses at least 2.5",
  },
  cfgRescale: {
    value: 0.75,
    domain: "a number in [0, 1]",
    valid: num((v) => v >= 0 && v <= 1),
    doc: "CFG rescale in [0, 1]",
  },
} satisfies Record<string, Setting<number>>;

/** VALL-E 2's Repetition Aware Sampling ratio, when a request gives the window only. */
export const RAS_RATIO_SETTING: Setting<number> = {
  value: 0.1,
  domain: "a number in (0, 1]",
  valid: num((v) => v > 0 && v <= 1),
  doc: "Repetition Aware Sampling ratio in (0, 1] (with a RAS window)",
};

/** NAR-len's CFG strength floor (the reference always guides the demasking at least this much). */
export const NAR_LEN_MIN_CFG = 2.5;

export interface RequestSettings {
  task: Setting<GenerationTask>;
  modality: Setting<Modality>;
  language: Setting<Language | "auto">;
  maxDuration: Setting<number>;
  maxLevels: Setting<number>;
  promptSeconds: Setting<number>;
  sentencePause: Setting<number>;
  contextHistory: Setting<number>;
  sentenceBatch: Setting<number>;
  remask: Setting<boolean>;
  scoring: Setting<"probability" | "entropy">;
  seed: Setting<number | undefined>;
  threads: Setting<number>;
}

/**
 * The most sentences generated in one batch: each NAR-len step evaluates a CFG pair per sentence, and one evaluation
 * holds 64 sequences (@vall-e/lm MAX_BATCH).
 */
export const MAX_SENTENCE_BATCH = 32;

/**
 * The sentences a request on a GPU generates together by default (sentenceBatch 0): one large batch per step instead
 * of many small ones. On the CPU the default is 1 — each sentence's audio as soon as it is done; a batch's results are
 * the same either way.
 */
export const GPU_SENTENCE_BATCH = 8;

/** The settings of a request beyond its sampler. */
export const REQUEST_SETTINGS: Readonly<RequestSettings> = {
  task: {
    value: "tts",
    ...oneOf(GENERATION_TASKS),
    doc: "tts, or ns / sr: clean up / remove the speech of the prompt (noisy audio), as long as it is",
  },
  modality: { value: "nar-len", ...oneOf(MODALITIES), doc: "NAR-len demasking or AR then NAR" },
  language: { value: "auto", ...oneOf(["auto", ...LANGUAGES] as const), doc: "language of the text (auto: detected)" },
  maxDuration: {
    value: 12,
    unit: "s",
    domain: "seconds in (0, 600]",
    valid: num((v) => v > 0 && v <= 600),
    doc: "longest output of one sentence, in seconds",
  },
  maxLevels: {
    value: RVQ_LEVELS - 1,
    domain: `an integer from 0 to ${RVQ_LEVELS - 1}`,
    valid: int(0, RVQ_LEVELS - 1),
    doc: `highest RVQ level generated, 0 … ${RVQ_LEVELS - 1}`,
  },
  promptSeconds: {
    value: 3,
    unit: "s",
    domain: "seconds from 0 to 600 (0: the references as they are)",
    valid: num((v) => v >= 0 && v <= 600),
    doc: "voice prompt length in seconds (tts; 0: the references whole)",
  },
  sentencePause: {
    value: 0.15,
    unit: "s",
    domain: "seconds from 0 to 10",
    valid: num((v) => v >= 0 && v <= 10),
    doc: "silence between sentences in seconds",
  },
  contextHistory: {
    value: 0,
    unit: "sentences",
    domain: "a number of sentences from 0 to 16",
    valid: int(0, 16),
    doc: "rolling context: continue each sentence from the previous n, 0 off",
  },
  sentenceBatch: {
    value: 0,
    unit: "sentences",
    domain: `a number of sentences from 0 to ${MAX_SENTENCE_BATCH}`,
    valid: int(0, MAX_SENTENCE_BATCH),
    doc: `sentences generated together in one batch (0: auto — ${GPU_SENTENCE_BATCH} on a GPU, 1 on the CPU)`,
  },
  remask: { value: false, ...flag, doc: "NAR-len: also remask 1/(2·steps) of the positions each step" },
  scoring: {
    value: "probability",
    ...oneOf(["probability", "entropy"] as const),
    doc: "NAR-len confidence: the argmax probability or 1 − normalised entropy",
  },
  seed: {
    value: undefined,
    domain: `an integer from 0 to ${2 ** 32 - 1}`,
    valid: int(0, 2 ** 32 - 1),
    doc: "random seed of the first sentence; sentence i uses seed + i (drawn and reported when not given)",
  },
  threads: {
    value: 0,
    domain: "an integer from 0 to 512",
    valid: int(0, 512),
    doc: "threads (0: the physical cores)",
  },
};

export type SamplingSettingName = keyof typeof SAMPLING_SETTINGS;
export type RequestSettingName = keyof RequestSettings;

/** The value of one setting: its default when `value` is undefined; else `value`, checked against its domain. */
export function settingValue<T>(setting: Setting<T>, value: unknown, name: string): T {
  if (value === undefined) return setting.value;
  if (!setting.valid(value)) throw invalid(setting.domain, name, value);
  return value as T;
}

/** "(default: 12 s)" — how a help text shows a setting's default. */
export function describeDefault(setting: Setting<unknown>): string {
  if (setting.value === undefined) return "";
  if (typeof setting.value === "boolean") return setting.value ? "(default: on)" : "(default: off)";
  return `(default: ${String(setting.value)}${setting.unit === "s" ? " s" : ""})`;
}
