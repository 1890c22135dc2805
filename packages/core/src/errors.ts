/**
 * The error types every vall-e package throws. Each carries a stable `code` a program can switch on, a message a
 * person can act on, and the underlying `cause` when there is one. The CLI maps codes to exit codes in one place.
 * (The native addon's own failures, NativeError and NativeLoadError, live in @vall-e/native and extend VallEError.)
 */

/** Codes shared by all packages. Packages add their own (`ERR_WAV_…`, `ERR_GGUF_…`) as strings. */
export type VallEErrorCode =
  | "ERR_INVALID_ARGUMENT"
  | "ERR_OUT_OF_MEMORY"
  | "ERR_COMPUTE"
  | "ERR_CANCELLED"
  | "ERR_BUSY"
  | "ERR_DISPOSED"
  | "ERR_INTERNAL"
  | "ERR_NATIVE_NOT_BUILT"
  | "ERR_NATIVE_LOAD_FAILED"
  | (string & {});

export interface VallEErrorOptions {
  cause?: unknown;
}

/** Base class of every error a vall-e package throws on purpose. */
export class VallEError extends Error {
  readonly code: VallEErrorCode;

  constructor(code: VallEErrorCode, message: string, options: VallEErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** A user-supplied value is out of its domain. The message reads "Expected <what> for <name>, got <value>". */
export class InvalidArgumentError extends VallEError {
  constructor(message: string, options: VallEErrorOptions = {}) {
    super("ERR_INVALID_ARGUMENT", message, options);
  }
}

/** An operation was aborted (AbortSignal or Ctrl-C). */
export class CancelledError extends VallEError {
  constructor(message = "The operation was cancelled", options: VallEErrorOptions = {}) {
    super("ERR_CANCELLED", message, options);
  }
}

/** An object that owns native memory was used after dispose(). */
export class DisposedError extends VallEError {
  constructor(what: string) {
    super("ERR_DISPOSED", `This ${what} has been disposed`);
  }
}

/**
 * Reading a file the user named failed: ERR_FILE_NOT_FOUND ("<What> not found: <path>") or ERR_FILE_READ.
 * `what` is capitalised, e.g. "Audio file".
 */
export function fileReadError(what: string, path: string, error: unknown): VallEError {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT"
    ? new VallEError("ERR_FILE_NOT_FOUND", `${what} not found: ${path}`, { cause: error })
    : new VallEError("ERR_FILE_READ", `Cannot read ${what.toLowerCase()} ${path}: ${(error as Error).message}`, {
        cause: error,
      });
}

/** Writing a file failed (ERR_FILE_WRITE). */
export function fileWriteError(path: string, error: unknown): VallEError {
  return new VallEError("ERR_FILE_WRITE", `Cannot write ${path}: ${(error as Error).message}`, { cause: error });
}

/**
 * Where a JSON.parse error is, as " (a syntax error at byte N)" ("" when the parser does not say): for messages about
 * a file that is not JSON, which must not quote the file's bytes as the parser's own message does.
 */
export function jsonErrorPosition(error: unknown): string {
  const at = /position (\d+)/.exec((error as Error)?.message ?? "")?.[1];
  return at === undefined ? "" : ` (a syntax error at byte ${at})`;
}
