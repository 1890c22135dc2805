/**
 * Text → phonemes → token ids, exactly as the reference front-end does (`vall_e/emb/g2p.py` `encode`, then
 * `vall_e/data.py` `tokenize`): language resolution and espeak-ng voice coercion, hiragana for Japanese, punctuation
 * cut out around espeak-ng and put back, espeak-ng's output cleaned as phonemizer does, Mandarin tone digits remapped,
 * then the BPE tokenizer.
 */
import { CancelledError, describeValue, expectOneOf, InvalidArgumentError } from "@vall-e/core";
import { espeakInfo, espeakTextToPhonemes } from "@vall-e/native";
import { PHONEME_ARTIFACT_FORMAT, type PhonemeArtifact } from "./artifact/phoneme-artifact.js";
import { cleanEspeakOutput } from "./text/espeak-output.js";
import { toHiragana } from "./text/japanese.js";
import {
  detectLanguage,
  espeakLanguageFor,
  isLanguage,
  LANGUAGE_OPTIONS,
  type Language,
  type LanguageOption,
} from "./text/languages.js";
import { preservePunctuation, restorePunctuation } from "./text/punctuation.js";
import { validateText } from "./text/validate-text.js";
import type { PhonemeTokenizer } from "./tokenizer/phoneme-tokenizer.js";

export interface PhonemizeIpaOptions {
  /** The model language, or "auto" to detect it from the text (default "auto"). */
  language?: LanguageOption;
  /** An espeak-ng language to phonemise with instead of the language's own (e.g. "en-gb", "es"). */
  voice?: string;
  signal?: AbortSignal;
}

export interface PhonemizeOptions extends PhonemizeIpaOptions {
  /** The model's phoneme vocabulary (loadTokenizer()). */
  tokenizer: PhonemeTokenizer;
}

export interface IpaResult {
  ipa: string;
  /** The model language (detected when "auto" was asked). */
  language: Language;
  /** The espeak-ng language used. */
  voice: string;
}

/** Mandarin tone digits in espeak-ng's pinyin become the vocabulary's tone marks (`vall_e/emb/g2p.py` `encode`). */
const TONES: Record<string, string> = { "1": "ˇ", "2": "ˉ", "3": "ˊ", "4": "ˋ", "5": "_" };

/** Characters sent to espeak-ng per native call: bounded work per call, the event loop free in between. */
const BATCH_CHARACTERS = 16_384;

async function resolveVoice(
  text: string,
  options: PhonemizeIpaOptions,
): Promise<{ language: Language; voice: string }> {
  const requested = expectOneOf(options.language ?? "auto", "language", LANGUAGE_OPTIONS);
  if (requested !== "auto") return { language: requested, voice: options.voice ?? espeakLanguageFor(requested) };
  // Beyond the reference (whose "auto" always yields the English language token): the detected language sets the
  // token when the model has it; espeak-ng gets the detected language when it has a voice for it.
  const detected = detectLanguage(text) ?? "en";
  const language = isLanguage(detected) ? detected : "en";
  if (options.voice) return { language, voice: options.voice };
  const candidate = espeakLanguageFor(detected);
  const { languages } = await espeakInfo();
  return { language, voice: languages.has(candidate) ? candidate : espeakLanguageFor(language) };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError("Phonemization was cancelled", { cause: signal.reason });
}

/** The phonemes of `text` (IPA with stress and punctuation), the language and the espeak-ng voice used. */
export async function phonemizeToIpa(text: string, options: PhonemizeIpaOptions = {}): Promise<IpaResult> {
  validateText(text);
  const { language, voice } = await resolveVoice(text, options);
  throwIfAborted(options.signal);

  let line = voice === "ja" ? await toHiragana(text) : text;
  line = line.replace(/^\n+|\n+$/g, ""); // phonemizer strips line separators at the ends of a line
  const { chunks, marks } = preservePunctuation(line);
  const nothing = () =>
    new InvalidArgumentError(
      `Expected text with something to pronounce for text, got ${JSON.stringify(text.slice(0, 40))}`,
    );
  if (chunks.length === 0) throw nothing();

  const cleaned: string[] = [];
  for (let start = 0; start < chunks.length; ) {
    let end = start;
    let size = 0;
    while (end < chunks.length && (end === start || size + (chunks[end] as string).length <= BATCH_CHARACTERS)) {
      size += (chunks[end] as string).length;
      end++;
    }
    const raw = await espeakTextToPhonemes(voice, chunks.slice(start, end));
    for (const output of raw) cleaned.push(cleanEspeakOutput(output));
    throwIfAborted(options.signal);
    start = end;
  }
  if (cleaned.every((chunk) => chunk === "")) throw nothing();

  let ipa = restorePunctuation(cleaned, marks)
    .filter((restored) => restored !== "")
    .join(" ");
  if (language === "zh") ipa = ipa.replace(/[1-5]/g, (digit) => TONES[digit] as string);
  return { ipa, language, voice };
}

/** Phonemise and tokenize `text`: the PhonemeArtifact the generate stage reads. */
export async function phonemize(text: string, options: PhonemizeOptions): Promise<PhonemeArtifact> {
  const { tokenizer } = options;
  if (!tokenizer || typeof tokenizer.encodeAsync !== "function") {
    throw new InvalidArgumentError(
      `Expected a PhonemeTokenizer (from loadTokenizer()) for tokenizer, got ${describeValue(tokenizer)}`,
    );
  }
  const { ipa, language, voice } = await phonemizeToIpa(text, options);
  const tokens = await tokenizer.encodeAsync(ipa, options.signal ? { signal: options.signal } : {});
  return { format: PHONEME_ARTIFACT_FORMAT, text, language, voice, ipa, tokens, tokenizer: tokenizer.fingerprint };
}
