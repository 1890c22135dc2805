import { VallEError } from "@vall-e/core";

/** A tokenizer file (tokenizer.json or a GGUF vocabulary) is unreadable or malformed. */
export class TokenizerFormatError extends VallEError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("ERR_TOKENIZER_FORMAT", message, options);
  }
}
