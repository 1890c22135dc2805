/**
 * The user-facing sampling settings and their resolution into the per-row sampler settings of each stage. Defaults,
 * units and domains are @vall-e/core's table (SAMPLING_SETTINGS): the reference's effective defaults.
 */
import { invalid, RAS_RATIO_SETTING, SAMPLING_SETTINGS, type Setting, settingValue } from "@vall-e/core";
import type { RepetitionAware, SamplerOptions } from "./samplers.js";

export interface SamplingOptions {
  /** AR level 0 and the NAR-len demasking (annealed towards 0 there); ≤ 0 is greedy. Default 1. */
  arTemperature: number;
  /** NAR levels 1–7; ≤ 0 is greedy. Default 0. */
  narTemperature: number;
  /** Dynamic temperature's lower end for AR / NAR-len; negative turns it off. Default −1. */
  minArTemperature: number;
  /** Dynamic temperature's lower end for NAR; negative turns it off. Default −1. */
  minNarTemperature: number;
  /** Keep the k most likely tokens; 0 turns it off. Default 0. */
  topK: number;
  /** Nucleus mass in (0, 1]; 1 turns it off. Default 1. */
  topP: number;
  /** Min-p in [0, 1); 0 turns it off. Default 0. */
  minP: number;
  /** Top-nσ's n; 0 turns it off (the reference's CLI has it on with n = 1). Default 0. */
  topNSigma: number;
  /** Repetition penalty factor > 0; 1 turns it off. Default 1. */
  repetitionPenalty: number;
  /** Distance exponent of the repetition penalty. Default 0. */
  repetitionPenaltyDecay: number;
  /** AR stop-token penalty exponent; 0 turns it off. Default 0. */
  lengthPenalty: number;
  /** DRY multiplier ≥ 0; 0 turns it off. Default 0. */
  dryMultiplier: number;
  /** DRY base > 1. Default 1.75. */
  dryBase: number;
  /** DRY allowed length ≥ 1 (integer). Default 2. */
  dryAllowedLength: number;
  /** Mirostat target surprise τ in bits (AR); 0 turns it off. Default 0. */
  mirostatTau: number;
  /** Mirostat learning rate η. Default 0.1. */
  mirostatEta: number;
  /** AR beam search width (integer 0 … 16); 0 or 1 samples one sequence. Default 0. */
  beamWidth: number;
  /** NAR-len demasking steps (integer ≥ 1). Default 50. */
  maxSteps: number;
  /** CFG strength for AR and NAR (0: off); NAR-len uses max(this, 2.5). Default 0. */
  cfgStrength: number;
  /** CFG rescale in [0, 1]. Default 0.75. */
  cfgRescale: number;
  /** VALL-E 2's Repetition Aware Sampling (AR); off when undefined. */
  repetitionAware: RepetitionAware | undefined;
}

type NumericSetting = Exclude<keyof SamplingOptions, "repetitionAware">;

/** The defaults, from the one table (@vall-e/core SAMPLING_SETTINGS). */
export const DEFAULT_SAMPLING: Readonly<SamplingOptions> = Object.freeze({
  ...(Object.fromEntries(Object.entries(SAMPLING_SETTINGS).map(([key, setting]) => [key, setting.value])) as Record<
    NumericSetting,
    number
  >),
  repetitionAware: undefined,
});

export { NAR_LEN_MIN_CFG } from "@vall-e/core";

/** Defaults filled in and every value checked (an InvalidArgumentError names the first bad one). */
export function resolveSampling(options: Partial<SamplingOptions> = {}): SamplingOptions {
  if (typeof options !== "object" || options === null) throw invalid("an object", "sampling", options);
  const resolved: SamplingOptions = { ...DEFAULT_SAMPLING };
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (key === "repetitionAware") {
      const ras = value as RepetitionAware;
      if (typeof ras !== "object" || ras === null) {
        throw invalid("{ window: an integer ≥ 1, ratio: a number in (0, 1] }", "sampling.repetitionAware", value);
      }
      if (!Number.isInteger(ras.window) || ras.window < 1) {
        throw invalid("an integer ≥ 1", "sampling.repetitionAware.window", ras.window);
      }
      if (!RAS_RATIO_SETTING.valid(ras.ratio)) {
        throw invalid(RAS_RATIO_SETTING.domain, "sampling.repetitionAware.ratio", ras.ratio);
      }
      resolved.repetitionAware = { window: ras.window, ratio: ras.ratio };
      continue;
    }
    const setting = (SAMPLING_SETTINGS as Record<string, Setting<number>>)[key];
    if (!setting) throw invalid(`one of ${Object.keys(DEFAULT_SAMPLING).join(", ")}`, "a sampling option", key);
    (resolved as unknown as Record<string, number>)[key] = settingValue(setting, value, `sampling.${key}`);
  }
  return resolved;
}

function samplerFor(s: SamplingOptions, t: number, tMin: number): SamplerOptions {
  return {
    temperature: t,
    minTemperature: tMin,
    topK: s.topK,
    topP: s.topP,
    minP: s.minP,
    topNSigma: s.topNSigma,
    repetitionPenalty: s.repetitionPenalty,
    repetitionPenaltyDecay: s.repetitionPenaltyDecay,
    lengthPenalty: s.lengthPenalty,
    dryMultiplier: s.dryMultiplier,
    dryBase: s.dryBase,
    dryAllowedLength: s.dryAllowedLength,
    repetitionAware: s.repetitionAware,
  };
}

/** The per-row sampler settings of AR level 0. */
export function arSampler(s: SamplingOptions): SamplerOptions {
  const mirostat = s.mirostatTau > 0 ? { tau: s.mirostatTau, eta: s.mirostatEta } : undefined;
  return { ...samplerFor(s, s.arTemperature, s.minArTemperature), mirostat };
}

/** The per-row sampler settings of the NAR levels (no length penalty, no RAS: they are AR notions). */
export function narSampler(s: SamplingOptions): SamplerOptions {
  return { ...samplerFor(s, s.narTemperature, s.minNarTemperature), lengthPenalty: 0, repetitionAware: undefined };
}

/**
 * The NAR-len demasking sampler at timestep t: the AR temperature annealed by (1 − t) (greedy at the last step); no
 * repetition penalty (the reference's crashes there, in `vall_e/models/ar_nar.py` `forward_nar_masked`), no length
 * penalty, no RAS.
 */
export function narLenSampler(s: SamplingOptions, t: number): SamplerOptions {
  return {
    ...samplerFor(s, s.arTemperature * (1 - t), s.minArTemperature),
    repetitionPenalty: 1,
    lengthPenalty: 0,
    repetitionAware: undefined,
  };
}
