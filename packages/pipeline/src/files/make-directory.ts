/**
 * Create a directory and its missing parents, one level at a time. Node's `mkdir(…, { recursive: true })` loops
 * forever under a parent that answers ENOENT to every creation (e.g. `/proc/nope`); this walks up to the nearest
 * existing ancestor, then creates each missing level once, so any failure ends it at once with the path named.
 */
import { mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileWriteError } from "@vall-e/core";

export async function makeDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    try {
      const found = await stat(at);
      if (!found.isDirectory()) {
        throw fileWriteError(dir, Object.assign(new Error(`${at} is not a directory`), { code: "ENOTDIR" }));
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        throw (error as { code?: string }).code === "ERR_FILE_WRITE" ? error : fileWriteError(dir, error);
      }
      missing.push(at);
      const parent = dirname(at);
      if (parent === at) throw fileWriteError(dir, error);
      at = parent;
    }
  }
  for (const level of missing.reverse()) {
    try {
      await mkdir(level);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw fileWriteError(dir, error);
    }
  }
}
