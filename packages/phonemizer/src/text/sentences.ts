/**
 * Sentence splitting for long text: the pipeline speaks one utterance per sentence (the reference uses NLTK's
 * sent_tokenize, `vall_e/data.py` `sentence_split`). Boundaries come from Intl.Segmenter (Unicode sentence rules, per
 * locale); a boundary inside a double-quoted passage is ignored, so quoted speech stays with its sentence (the
 * reference protects quotes for the same reason). Each sentence keeps its punctuation; surrounding whitespace is
 * trimmed.
 */
import { invalid } from "@vall-e/core";
import { isLanguage, LANGUAGES, type Language } from "./languages.js";

const QUOTES = /["“”]/g;

export function splitSentences(text: string, language: Language = "en"): string[] {
  if (typeof text !== "string") throw invalid("a string", "text", text);
  if (!isLanguage(language)) throw invalid(`one of ${LANGUAGES.map((l) => `"${l}"`).join(", ")}`, "language", language);
  const segmenter = new Intl.Segmenter(language, { granularity: "sentence" });
  const sentences: string[] = [];
  let pending = "";
  let open = false;
  for (const { segment } of segmenter.segment(text)) {
    pending += segment;
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
