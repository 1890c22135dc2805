import { VallEError } from "@vall-e/core";

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

export { fileReadError, fileWriteError } from "@vall-e/core";

/** Codec weights are not a file the loader or converter accepts. */
export class CodecFormatError extends VallEError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("ERR_CODEC_FORMAT", message, options);
  }
}
