/**
 * Python's `\s` for str patterns (characters for which str.isspace() is true), as a regex character-class body.
 * The reference runs its punctuation regexes in Python; JavaScript's `\s` differs (it adds U+FEFF and lacks the
 * U+001C–U+001F separators and U+0085), so the same class is spelled out here.
 */
export const PY_WHITESPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

const EDGE = new RegExp(`^[${PY_WHITESPACE}]+|[${PY_WHITESPACE}]+$`, "g");

/** Python's str.strip() with no argument. */
export function pyStrip(text: string): string {
  return text.replace(EDGE, "");
}
