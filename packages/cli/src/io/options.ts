import { InvalidArgumentError } from "@vall-e/core";

/** --threads: an integer from 1 to 512. */
export function parseThreads(value: string): number {
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1 || threads > 512) {
    throw new InvalidArgumentError(`Expected an integer from 1 to 512 for --threads, got ${JSON.stringify(value)}`);
  }
  return threads;
}
