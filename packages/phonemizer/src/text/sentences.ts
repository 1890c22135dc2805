/**
 * Sentence splitting for long text: the pipeline speaks one utterance per sentence (the reference uses NLTK's
 * sent_tokenize, `vall_e/data.py` `sentence_split`). Boundaries come from Intl.Segmenter (Unicode sentence rules, per
 * locale); a boundary inside a double-quoted passage is ignored, so quoted speech stays with its sentence (the
 * reference protects quotes for the same reason). Each sentence keeps its punctuation; surrounding whitespace is
 * trimmed.
 *
 * Unicode's rules break after every "word." followed by a space; NLTK's punkt keeps titles, initials and common
 * abbreviations inside the sentence. So do we: a boundary is dropped after a title or an initial before a name
 * ("Dr. Smith", "St. James", "J. R. R. Tolkien"), and after any abbreviation when the next word starts in lower case
 * or with a digit ("e.g. in", "St. at 5", "U.S. today"); "5 p.m. It was" still ends at "p.m.".
 */
import { invalid } from "@vall-e/core";
import { isLanguage, LANGUAGES, type Language } from "./languages.js";

const QUOTES = /["“”]/g;

/** Titles (lower case, without the dot) that come before a name, per language: the sentence goes on after them. */
const TITLES: Partial<Record<Language, readonly string[]>> = {
  en: [
    "mr",
    "mrs",
    "ms",
    "mx",
    "dr",
    "prof",
    "st",
    "mt",
    "sr",
    "jr",
    "rev",
    "fr",
    "gen",
    "col",
    "capt",
    "lt",
    "sgt",
    "hon",
    "gov",
    "sen",
    "rep",
    "messrs",
  ],
  de: ["hr", "fr", "dr", "prof", "st", "nr", "z", "b", "bzw", "ca", "vgl"],
  fr: ["m", "mm", "mme", "mlle", "dr", "pr", "st", "ste", "me"],
};

/** Whether the boundary after `segment` (ending in "word. ") is not a sentence end, given what follows. */
function continues(segment: string, next: string, language: Language): boolean {
  const last = /(?:^|[\s(“"'])([\p{L}.]+)\.\s*$/u.exec(segment)?.[1];
  if (last === undefined) return false;
  const word = last.toLowerCase();
  const following = next.trimStart();
  if (/^[\p{Ll}\d]/u.test(following)) return true; // "e.g. in", "St. at 5", "U.S. today"
  if (!/^\p{Lu}/u.test(following)) return false;
  if (/^\p{Lu}$/u.test(last)) return true; // an initial: "J. R. R. Tolkien"
  return (TITLES[language] ?? []).includes(word); // a title before a name: "Dr. Smith"
}

export function splitSentences(text: string, language: Language = "en"): string[] {
  if (typeof text !== "string") throw invalid("a string", "text", text);
  if (!isLanguage(language)) throw invalid(`one of ${LANGUAGES.map((l) => `"${l}"`).join(", ")}`, "language", language);
  const segmenter = new Intl.Segmenter(language, { granularity: "sentence" });
  const sentences: string[] = [];
  let pending = "";
  let open = false;
  const segments = [...segmenter.segment(text)].map((s) => s.segment);
  for (const [i, segment] of segments.entries()) {
    pending += segment;
    const next = segments[i + 1];
    if (next !== undefined && continues(segment, next, language)) continue;
    // Straight quotes toggle; curly quotes open and close.
    for (const quote of segment.match(QUOTES) ?? []) open = quote === '"' ? !open : quote === "“";
    if (open) continue;
    const sentence = pending.trim();
    if (sentence) sentences.push(sentence);
    pending = "";
  }
  const rest = pending.trim();
  if (rest) sentences.push(rest);
  return sentences;
}
