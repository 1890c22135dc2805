import { VallEError } from "@vall-e/native";

/** An audio file is not a WAV this package can read (or is damaged). */
export class AudioFormatError extends VallEError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("ERR_AUDIO_FORMAT", message, options);
  }
}

/** A codes artifact (.npy, .json, .enc) is malformed or does not hold EnCodec codes. */
export class CodesFormatError extends VallEError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("ERR_CODES_FORMAT", message, options);
  }
}

/** Reading a file the user named failed: missing (ERR_FILE_NOT_FOUND) or unreadable (ERR_FILE_READ). */
export function fileReadError(what: string, path: string, error: unknown): VallEError {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT"
    ? new VallEError("ERR_FILE_NOT_FOUND", `${what} not found: ${path}`, { cause: error })
    : new VallEError("ERR_FILE_READ", `Cannot read ${what.toLowerCase()} ${path}: ${(error as Error).message}`, {
        cause: error,
      });
}

export function fileWriteError(path: string, error: unknown): VallEError {
  return new VallEError("ERR_FILE_WRITE", `Cannot write ${path}: ${(error as Error).message}`, { cause: error });
}

/** Codec weights are not a file the loader or converter accepts. */
export class CodecFormatError extends VallEError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("ERR_CODEC_FORMAT", message, options);
  }
}
