/**
 * Punctuation handling of the reference phonemizer (bootphon/phonemizer 3.x `Punctuation`, as `vall_e/emb/g2p.py`
 * `encode` uses it): marks are cut out before espeak-ng (which would drop them) and put back afterwards where they
 * were.
 *
 * preserve(): find every run matching "optional spaces, one or more marks, optional spaces" (repeated); each run is
 * a mark at the beginning (B), end (E), inside (I), or the whole line (A); the text between runs becomes the
 * chunks espeak-ng phonemises (empty chunks are dropped).
 * restore(): put each mark back, in order, and no trailing separator (strip). The reference rewrites only the spaces
 * inside a mark as the word separator — itself a space — so a mark is put back verbatim: a newline or tab inside a
 * mark group (".\n" in "First line.\nSecond line.") stays, and the tokenizer maps it to `<unk>` (0) as the
 * reference's does (phonemizer 3.3 `Punctuation.restore`: `re.sub(' ', sep.word, mark)`).
 * Both run in time linear in the text length (the reference's repeated str.split is quadratic).
 */
import { PY_WHITESPACE } from "./python-whitespace.js";

/** The reference's punctuation marks (phonemizer 3.x defaults: `;:,.!?¡¿—…"«»“”(){}[]`). */
export const PUNCTUATION_MARKS = ';:,.!?¡¿—…"«»“”(){}[]';

const escaped = PUNCTUATION_MARKS.replace(/[\\\][^-]/g, "\\$&");
const MARKS_RE = new RegExp(`(?:[${PY_WHITESPACE}]*[${escaped}]+[${PY_WHITESPACE}]*)+`, "g");
const SEPARATOR = " ";

export type MarkPosition = "B" | "E" | "I" | "A";

export interface Mark {
  mark: string;
  position: MarkPosition;
}

export interface PreservedLine {
  /** The non-empty text chunks between marks, in order: what espeak-ng phonemises. */
  chunks: string[];
  marks: Mark[];
}

/** Split a line into chunks and marks (phonemizer's Punctuation.preserve for one line). */
export function preservePunctuation(line: string): PreservedLine {
  const matches = [...line.matchAll(MARKS_RE)].map((match) => match[0]);
  if (matches.length === 0) return { chunks: line ? [line] : [], marks: [] };
  if (matches.length === 1 && matches[0] === line) return { chunks: [], marks: [{ mark: line, position: "A" }] };

  const last = matches.length - 1;
  const marks: Mark[] = matches.map((mark, index) => {
    // As the reference does: a string test (startswith/endswith), not a position test.
    let position: MarkPosition = "I";
    if (index === 0 && line.startsWith(mark)) position = "B";
    else if (index === last && line.endsWith(mark)) position = "E";
    return { mark, position };
  });

  // Each mark splits the rest of the line at the mark's first occurrence.
  const chunks: string[] = [];
  let cursor = 0;
  for (const { mark } of marks) {
    const at = line.indexOf(mark, cursor);
    chunks.push(line.slice(cursor, at));
    cursor = at + mark.length;
  }
  chunks.push(line.slice(cursor));
  return { chunks: chunks.filter((chunk) => chunk !== ""), marks };
}

/** A string built from pieces, so that appending and trimming a trailing separator stay O(1). */
class Pieces {
  readonly parts: string[];

  constructor(first: string) {
    this.parts = [first];
  }

  /** Python's `if s.endswith(sep): s = s[:-len(sep)]` on the joined string. */
  dropTrailingSeparator(): void {
    for (let i = this.parts.length - 1; i >= 0; i--) {
      const part = this.parts[i] as string;
      if (part === "") continue;
      if (part.endsWith(SEPARATOR)) this.parts[i] = part.slice(0, -SEPARATOR.length);
      return;
    }
  }

  toString(): string {
    return this.parts.join("");
  }
}

/**
 * Put the marks back into the phonemised chunks (phonemizer's Punctuation.restore with a space word separator and
 * strip=True, for one line). Returns the restored line(s); a single line for any single-line input.
 */
export function restorePunctuation(phonemized: readonly string[], marks: readonly Mark[]): string[] {
  const out: string[] = [];
  let head: Pieces | undefined; // the reference's text[0] while marks are attached to it
  let p = 0; // next unconsumed element of `phonemized`
  const takeHead = (): Pieces | undefined => {
    if (!head && p < phonemized.length) head = new Pieces(phonemized[p++] as string);
    return head;
  };
  let line = 0; // the reference's `num`: every mark of a single line has index 0
  let m = 0;
  while (m < marks.length) {
    const current = takeHead();
    if (!current) {
      // Nothing left to attach to: the remaining marks alone.
      out.push(
        marks
          .slice(m)
          .map((item) => item.mark)
          .join(""),
      );
      return out;
    }
    if (line !== 0) {
      out.push(current.toString());
      head = undefined;
      line++;
      continue;
    }
    const { position } = marks[m] as Mark;
    const { mark } = marks[m] as Mark;
    m++;
    current.dropTrailingSeparator();
    switch (position) {
      case "B":
        current.parts.unshift(mark);
        break;
      case "E":
        current.parts.push(mark);
        out.push(current.toString());
        head = undefined;
        line++;
        break;
      case "A":
        out.push(mark);
        line++;
        break;
      case "I":
        current.parts.push(mark);
        if (p < phonemized.length) current.parts.push(phonemized[p++] as string);
        break;
    }
  }
  if (head) out.push(head.toString());
  while (p < phonemized.length) out.push(phonemized[p++] as string);
  return out;
}
