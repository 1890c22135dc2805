/**
 * Checks on user text before it reaches espeak-ng: a string, not empty, no control characters (tab, line feed and
 * carriage return are fine), no lone surrogates, not absurdly long. Messages follow "Expected <what> for <name>,
 * got <value>".
 */
import { InvalidArgumentError, invalid } from "@vall-e/core";

/** Longest text accepted in one call (characters). Longer input should be streamed sentence by sentence. */
export const MAX_TEXT_LENGTH = 5_000_000;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** Offset of the first lone surrogate, or -1. */
export function findLoneSurrogate(text: string): number {
  return text.search(LONE_SURROGATE);
}

/** The UTF-16 code unit at `offset` as 4 upper-case hex digits. */
export function hex(text: string, offset: number): string {
  return text.charCodeAt(offset).toString(16).toUpperCase().padStart(4, "0");
}

export function validateText(text: unknown, name = "text"): string {
  if (typeof text !== "string") throw invalid("a string", name, text);
  if (text.trim() === "") throw invalid("non-empty text", name, text);
  if (text.length > MAX_TEXT_LENGTH) {
    throw new InvalidArgumentError(
      `Expected at most ${MAX_TEXT_LENGTH} characters for ${name}, got ${text.length} (split long text into sentences)`,
    );
  }
  const control = text.search(CONTROL);
  if (control >= 0) {
    throw new InvalidArgumentError(
      `Expected text without control characters for ${name}, got U+${hex(text, control)} at offset ${control}`,
    );
  }
  const surrogate = findLoneSurrogate(text);
  if (surrogate >= 0) {
    throw new InvalidArgumentError(
      `Expected text without lone surrogates for ${name}, got U+${hex(text, surrogate)} at offset ${surrogate}`,
    );
  }
  return text;
}
