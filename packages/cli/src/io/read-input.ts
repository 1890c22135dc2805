import { createReadStream } from "node:fs";
import { describeKind, fileReadError, statPathSync, VallEError } from "@vall-e/core";

/** The most text `tts` reads (characters; about two hours of speech): `--max-text` raises it. */
export const MAX_TEXT_CHARACTERS = 100_000;

/**
 * All of a stream as UTF-8 text, stopping with a typed error naming `what` as soon as it holds more than `maxChars`
 * characters (so /dev/zero or an endless pipe is refused instead of read forever).
 */
async function readBounded(stream: NodeJS.ReadableStream, what: string, maxChars: number): Promise<string> {
  // Text must be UTF-8, as the reference reads it: an invalid byte is refused, not spoken as U+FFFD.
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let text = "";
  let bytes = 0;
  const decode = (chunk?: Uint8Array) => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      (stream as { destroy?: () => void }).destroy?.();
      // The decoder may hold up to 3 bytes of a sequence begun in the previous chunk: the fault is from there on.
      const where = chunk
        ? `an invalid byte sequence within bytes ${Math.max(0, bytes - 3)}–${bytes + chunk.length}`
        : `it ends inside a UTF-8 sequence, at byte ${bytes}`;
      throw new VallEError("ERR_USAGE", `${what} is not UTF-8 text (${where})`);
    }
  };
  for await (const chunk of stream) {
    text += decode(chunk as Uint8Array);
    bytes += (chunk as Uint8Array).length;
    if (text.length > maxChars) {
      (stream as { destroy?: () => void }).destroy?.();
      throw new VallEError(
        "ERR_USAGE",
        `${what} holds more than ${maxChars} characters of text (--max-text raises the limit)`,
      );
    }
  }
  return text + decode();
}

/** A text argument: the argument itself, or all of stdin when it is "-"; at most `maxChars` characters. */
export async function readTextArgument(
  argument: string,
  stdin: NodeJS.ReadableStream = process.stdin,
  maxChars = MAX_TEXT_CHARACTERS,
): Promise<string> {
  if (argument !== "-") {
    if (argument.length > maxChars) {
      throw new VallEError(
        "ERR_USAGE",
        `The text argument holds ${argument.length} characters, more than ${maxChars} (--max-text raises the limit)`,
      );
    }
    return argument;
  }
  try {
    return await readBounded(stdin, "stdin", maxChars);
  } catch (error) {
    if (error instanceof VallEError) throw error;
    throw new VallEError("ERR_FILE_READ", `Cannot read the text from stdin: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * A --text-file, at most `maxChars` characters of UTF-8: a regular file, or a pipe (`--text-file <(…)`, a FIFO: read
 * as its writer sends it); a folder or a device is refused before it is opened.
 */
export async function readTextFile(path: string, maxChars = MAX_TEXT_CHARACTERS): Promise<string> {
  const found = statPathSync(path);
  if (found === undefined) throw new VallEError("ERR_FILE_NOT_FOUND", `Text file not found: ${path}`);
  if (!found.isFile() && !found.isFIFO()) {
    throw new VallEError(
      "ERR_NOT_A_FILE",
      `Text file ${path} is not a regular file or a pipe (it is a ${describeKind(found)})`,
    );
  }
  let text: string;
  try {
    text = await readBounded(createReadStream(path), `Text file ${path}`, maxChars);
  } catch (error) {
    if (error instanceof VallEError) throw error;
    throw fileReadError("Text file", path, error);
  }
  if (text.trim() === "") throw new VallEError("ERR_USAGE", `Text file ${path} holds no text`);
  // The phonemizer's checks (control characters, lone surrogates), naming the file.
  const { validateText } = await import("@vall-e/phonemizer");
  validateText(text, `the text of ${path}`);
  return text;
}
