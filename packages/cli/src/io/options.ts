import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { InvalidArgumentError, statPathSync, VallEError } from "@vall-e/core";
import { parseDecimal } from "./numbers.js";

/** --threads: an integer from 1 to 512. */
export function parseThreads(value: string): number {
  const threads = parseDecimal(value) ?? Number.NaN;
  if (!Number.isInteger(threads) || threads < 1 || threads > 512) {
    throw new InvalidArgumentError(`Expected an integer from 1 to 512 for --threads, got ${JSON.stringify(value)}`);
  }
  return threads;
}

/** An output file the command can write, checked before any work: its folder exists and is a folder ("-": stdout). */
export function checkOutputPath(path: string, flag = "-o"): void {
  if (path === "-") return;
  const folder = dirname(resolve(path));
  if (!existsSync(folder)) {
    throw new VallEError("ERR_USAGE", `Cannot write ${path} (${flag}): the folder ${folder} does not exist`);
  }
  if (!statPathSync(folder)?.isDirectory()) {
    throw new VallEError("ERR_USAGE", `Cannot write ${path} (${flag}): ${folder} is not a folder`);
  }
  if (statPathSync(path)?.isDirectory()) {
    throw new VallEError("ERR_USAGE", `Cannot write ${path} (${flag}): it is a folder`);
  }
}

/**
 * A folder the command will make or write into (--artifacts), checked before any work: where it exists it is a
 * folder, else its nearest existing parent is.
 */
export function checkFolderPath(path: string, flag: string): void {
  let at = resolve(path);
  for (;;) {
    const found = statPathSync(at);
    if (found !== undefined) {
      if (!found.isDirectory()) {
        throw new VallEError(
          "ERR_USAGE",
          at === resolve(path)
            ? `Cannot use ${path} as the ${flag} folder: it is a file`
            : `Cannot make the ${flag} folder ${path}: ${at} is a file, not a folder`,
        );
      }
      return;
    }
    const parent = dirname(at);
    if (parent === at) return;
    at = parent;
  }
}

/** An integer flag in [min, max] (a usage error naming the flag otherwise). */
export function parseInteger(flag: string, min: number, max: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(
        `Expected an integer from ${min} to ${max} for ${flag}, got ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}
