/**
 * Languages: the model's six (their order is the language token id, `vall_e/data.py` `get_lang_symmap`), the espeak-ng
 * voice each is phonemised with (`vall_e/emb/g2p.py` `coerce_language`), and automatic detection for "auto".
 */
import { LANGUAGES, type Language } from "@vall-e/core";
import { detect } from "tinyld";

/** The model's languages; the index is the language token id. */
export { LANGUAGES, type Language } from "@vall-e/core";
export type LanguageOption = Language | "auto";
export const LANGUAGE_OPTIONS: readonly LanguageOption[] = ["auto", ...LANGUAGES];

export function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);
}

/** The language token id of a model language (en 0, ja 1, de 2, fr 3, zh 4, ko 5). */
export function languageId(language: Language): number {
  return LANGUAGES.indexOf(language);
}

/** The espeak-ng language code for a language code: en → en-us, fr → fr-fr, zh* → cmn-latn-pinyin, else itself. */
export function espeakLanguageFor(language: string): string {
  if (language === "en") return "en-us";
  if (language === "fr") return "fr-fr";
  if (language.startsWith("zh")) return "cmn-latn-pinyin";
  return language;
}

/** The ISO 639-1 code of the text's language, or undefined when it cannot be told (tinyld). */
export function detectLanguage(text: string): string | undefined {
  const code = detect(text);
  return code ? code : undefined;
}
