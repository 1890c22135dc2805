/**
 * @vall-e/phonemizer — the text front-end of vall-e for Node: text → espeak-ng phonemes (with the reference's
 * punctuation handling and language rules) → VALL-E phoneme token ids, and the PhonemeArtifact between stages.
 */
export {
  ArtifactFormatError,
  MAX_PHONEME_TOKEN_ID,
  PHONEME_ARTIFACT_FORMAT,
  type PhonemeArtifact,
  readPhonemeArtifact,
  serializePhonemeArtifact,
  validatePhonemeArtifact,
  writePhonemeArtifact,
} from "./artifact/phoneme-artifact.js";
export { type EspeakNgInstallation, locateEspeakNg } from "./espeak/locate.js";
export { ESPEAK_DEMO_TEXT, ESPEAK_REFERENCE_PREFIX, espeakSpeech, isEspeakReference } from "./espeak/speak.js";
export {
  type IpaResult,
  type PhonemizeIpaOptions,
  type PhonemizeOptions,
  phonemize,
  phonemizeToIpa,
} from "./phonemize.js";
export {
  detectLanguage,
  espeakLanguageFor,
  isLanguage,
  LANGUAGE_OPTIONS,
  LANGUAGES,
  type Language,
  type LanguageOption,
  languageId,
} from "./text/languages.js";
export { PUNCTUATION_MARKS } from "./text/punctuation.js";
export { splitSentences } from "./text/sentences.js";
export { MAX_TEXT_LENGTH, validateText } from "./text/validate-text.js";
export { TokenizerFormatError } from "./tokenizer/errors.js";
export { loadTokenizer, parseTokenizerJson, readGgufTokenizer } from "./tokenizer/load.js";
export {
  BOS_ID,
  type DetokenizeOptions,
  EOS_ID,
  MASK_ID,
  PhonemeTokenizer,
  type TokenizerDefinition,
  UNK_ID,
} from "./tokenizer/phoneme-tokenizer.js";

import type { DetokenizeOptions, PhonemeTokenizer } from "./tokenizer/phoneme-tokenizer.js";

/** Token ids of a phoneme string (with <bos> and </eos>). */
export function tokenize(ipa: string, tokenizer: PhonemeTokenizer): number[] {
  return tokenizer.encode(ipa);
}

/** The phoneme string of token ids (special tokens dropped unless asked). */
export function detokenize(
  ids: readonly number[],
  tokenizer: PhonemeTokenizer,
  options: DetokenizeOptions = {},
): string {
  return tokenizer.decode(ids, options);
}
