import { text as readStream } from "node:stream/consumers";
import { VallEError } from "@vall-e/core";

/** A text argument: the argument itself, or all of stdin when it is "-". */
export async function readTextArgument(
  argument: string,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<string> {
  if (argument !== "-") return argument;
  try {
    return await readStream(stdin);
  } catch (error) {
    throw new VallEError("ERR_FILE_READ", `Cannot read the text from stdin: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
