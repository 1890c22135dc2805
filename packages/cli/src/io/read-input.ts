import { createReadStream } from "node:fs";
import { fileReadError, VallEError } from "@vall-e/core";

/** The most text `tts` reads (characters; about two hours of speech): `--max-text` raises it. */
export const MAX_TEXT_CHARACTERS = 100_000;

/**
 * All of a stream as UTF-8 text, stopping with a typed error naming `what` as soon as it holds more than `maxChars`
 * characters (so /dev/zero or an endless pipe is refused instead of read forever).
 */
async function readBounded(stream: NodeJS.ReadableStream, what: string, maxChars: number): Promise<string> {
  const decoder = new TextDecoder("utf-8");
  let text = "";
  for await (const chunk of stream) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    if (text.length > maxChars) {
      (stream as { destroy?: () => void }).destroy?.();
      throw new VallEError(
        "ERR_USAGE",
        `${what} holds more than ${maxChars} characters of text (--max-text raises the limit)`,
      );
    }
  }
  return text + decoder.decode();
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

/** A --text-file (a FIFO too), at most `maxChars` characters. */
export async function readTextFile(path: string, maxChars = MAX_TEXT_CHARACTERS): Promise<string> {
  try {
    return await readBounded(createReadStream(path), `Text file ${path}`, maxChars);
  } catch (error) {
    if (error instanceof VallEError) throw error;
    throw fileReadError("Text file", path, error);
  }
}
