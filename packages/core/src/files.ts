/**
 * Reading a file the user named, safely: only a regular file, of at most a given size, is read — a FIFO, a device
 * (/dev/zero), a folder or a file far larger than any input of its kind is refused at once instead of read without
 * end. Failures are typed (ERR_FILE_NOT_FOUND, ERR_FILE_READ, ERR_FILE_TOO_LARGE, ERR_NOT_A_FILE) and name the file.
 */
import { type BigIntStats, type Stats, statSync } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import writeFileAtomic from "write-file-atomic";
import { fileReadError, fileWriteError, VallEError } from "./errors.js";

/** `path`'s stats when it is a regular file of at most `maxBytes`; else a typed error naming `what` and the path. */
export async function statRegularFile(path: string, what: string, maxBytes: number): Promise<Stats> {
  let found: Stats;
  try {
    found = await stat(path);
  } catch (error) {
    throw fileReadError(what, path, error);
  }
  if (!found.isFile()) {
    throw new VallEError("ERR_NOT_A_FILE", `${what} ${path} is not a regular file (a ${describeKind(found)})`);
  }
  if (found.size > maxBytes) {
    throw new VallEError(
      "ERR_FILE_TOO_LARGE",
      `${what} ${path} is ${found.size} bytes: more than the ${maxBytes} such a file may have`,
    );
  }
  return found;
}

/** The bytes of a regular file of at most `maxBytes` (statRegularFile's checks first). */
export async function readRegularFile(path: string, what: string, maxBytes: number): Promise<Buffer> {
  await statRegularFile(path, what, maxBytes);
  try {
    return await readFile(path);
  } catch (error) {
    throw fileReadError(what, path, error);
  }
}

/** What a path that is not a regular file is, for a message: "folder", "FIFO", "device", "socket". */
export function describeKind(
  found: Pick<Stats, "isDirectory" | "isFIFO" | "isCharacterDevice" | "isBlockDevice" | "isSocket">,
): string {
  if (found.isDirectory()) return "folder";
  if (found.isFIFO()) return "FIFO";
  if (found.isCharacterDevice() || found.isBlockDevice()) return "device";
  if (found.isSocket()) return "socket";
  return "special file";
}

/**
 * Write `data` to a file the user named, atomically: a temporary file beside it, renamed over it — so a failure never
 * leaves half a file. A path that is a FIFO or a character device (`-o /dev/null`, `-o /dev/stdout`, a named pipe) is
 * written into as a stream instead, never renamed over (as root, a rename would replace /dev/null itself); a folder, a
 * block device or a socket is refused.
 */
export async function writeOutputFile(path: string, data: string | Uint8Array): Promise<void> {
  let found: Stats | undefined;
  try {
    found = await stat(path);
  } catch {
    found = undefined; // absent (or unreadable: the write below says why)
  }
  if (found && !found.isFile()) {
    if (found.isFIFO() || found.isCharacterDevice()) {
      try {
        await writeFile(path, data);
      } catch (error) {
        throw fileWriteError(path, error);
      }
      return;
    }
    throw new VallEError("ERR_NOT_A_FILE", `Cannot write ${path}: it is a ${describeKind(found)}, not a file`);
  }
  try {
    await writeFileAtomic(
      path,
      typeof data === "string" ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    );
  } catch (error) {
    throw fileWriteError(path, error);
  }
}

/**
 * The stats of a path the user named, synchronously (undefined when nothing is there). BigInt stats on purpose: on
 * Node 20, a plain `statSync` of a FIFO leaves the stat array Node shares with its module loader in a state that makes
 * the next dynamic import fail to resolve ("Cannot find module …", seen with `-o` naming a FIFO); the BigInt variant
 * uses an array of its own.
 */
export function statPathSync(path: string): BigIntStats | undefined {
  return statSync(path, { bigint: true, throwIfNoEntry: false });
}
