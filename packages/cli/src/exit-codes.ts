/**
 * Exit codes, decided in one place (STYLE: CLI): 0 success, 1 runtime failure, 2 usage or validation error,
 * 130 after Ctrl-C cleanup.
 */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_CANCELLED = 130;

/** Error codes that mean "the user asked for something invalid" (including a file that does not exist) rather than
 * "it failed". */
const USAGE_CODES = new Set([
  "ERR_INVALID_ARGUMENT",
  "ERR_USAGE",
  "ERR_FILE_NOT_FOUND",
  "ERR_NOT_A_FILE",
  "ERR_FILE_TOO_LARGE",
  "ERR_DEVICE",
]);

export function exitCodeFor(error: unknown): number {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  if (code === "ERR_CANCELLED" || (error instanceof Error && error.name === "AbortError")) return EXIT_CANCELLED;
  if (typeof code === "string" && (USAGE_CODES.has(code) || code.startsWith("commander."))) return EXIT_USAGE;
  return EXIT_FAILURE;
}
