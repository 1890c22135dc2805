/**
 * Round-trip evaluation with no extra model: speak each text in a voice, transcribe the result with the same model
 * (its stt task), and compare the phonemes with the text's own — the phoneme error rate — with the duration, the
 * real-time factor and the seconds of each stage. What this does not measure: word error rate and speaker similarity
 * (they need an ASR and a speaker-embedding model, which this project does not ship).
 */
import { phonemize } from "@vall-e/phonemizer";
import type { SpeechResult } from "../engine/chunks.js";
import type { Engine } from "../engine/engine.js";
import type { GenerationSettings, ReferenceInput } from "../engine/request.js";
import { phonemeErrorRate } from "./phoneme-error-rate.js";

export interface EvaluationItem {
  index: number;
  text: string;
  /** The text's phonemes (the reference) and what the model heard in its own speech. */
  reference: { ipa: string; tokens: number[] };
  transcript: { ipa: string; tokens: number[]; stopped: boolean };
  phonemeErrorRate: number;
  seconds: number;
  /** Wall seconds of synthesis ÷ seconds of audio. */
  realTimeFactor: number;
  timings: Record<string, number>;
  seed: number | undefined;
  /** The audio and its codes' first level, for reports. */
  audio: Float32Array;
  sampleRate: number;
}

export interface EvaluationSummary {
  items: number;
  meanPhonemeErrorRate: number;
  totalSeconds: number;
  meanRealTimeFactor: number;
}

export interface EvaluateOptions extends GenerationSettings {
  texts: readonly string[];
  reference?: ReferenceInput | readonly ReferenceInput[];
  signal?: AbortSignal;
  onItem?: (item: EvaluationItem) => void;
}

export async function evaluate(
  engine: Engine,
  options: EvaluateOptions,
): Promise<{ items: EvaluationItem[]; summary: EvaluationSummary }> {
  const { texts, reference, signal, onItem, ...settings } = options;
  const voice = reference === undefined ? undefined : await engine.prepareVoice(reference, signal ? { signal } : {});
  const tokenizer = engine.tokenizer;
  const items: EvaluationItem[] = [];
  for (const [index, text] of texts.entries()) {
    const language = settings.language === undefined || settings.language === "auto" ? "en" : settings.language;
    const own = await phonemize(text, { language, tokenizer, ...(signal ? { signal } : {}) });
    const start = performance.now();
    const spoken: SpeechResult = await engine.synthesize({
      ...settings,
      text,
      ...(voice ? { reference: voice } : {}),
      ...(signal ? { signal } : {}),
      ...(settings.seed === undefined ? {} : { seed: (settings.seed + index) % 2 ** 32 }),
    });
    const wall = (performance.now() - start) / 1e3;
    const heard = await engine.transcribe({
      audio: { samples: spoken.audio, sampleRate: spoken.sampleRate },
      language,
      ...(signal ? { signal } : {}),
    });
    const seconds = spoken.audio.length / spoken.sampleRate;
    const item: EvaluationItem = {
      index,
      text,
      reference: { ipa: own.ipa, tokens: own.tokens },
      transcript: { ipa: heard.artifact.ipa, tokens: heard.artifact.tokens, stopped: heard.stopped },
      phonemeErrorRate: phonemeErrorRate(own.tokens, heard.artifact.tokens),
      seconds,
      realTimeFactor: seconds > 0 ? wall / seconds : Number.POSITIVE_INFINITY,
      timings: spoken.timings,
      seed: spoken.seed,
      audio: spoken.audio,
      sampleRate: spoken.sampleRate,
    };
    items.push(item);
    onItem?.(item);
  }
  const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);
  return {
    items,
    summary: {
      items: items.length,
      meanPhonemeErrorRate: mean(items.map((i) => i.phonemeErrorRate)),
      totalSeconds: items.reduce((n, i) => n + i.seconds, 0),
      meanRealTimeFactor: mean(items.map((i) => i.realTimeFactor)),
    },
  };
}
