/**
 * PhonemeArtifact (format in this package's README): what the phonemize stage writes and the generate stage reads —
 * JSON a person can read and edit. Reading validates every field; writing is atomic (a temporary file renamed into
 * place), so a failed write never leaves a half-written artifact.
 */
import { describeValue, jsonErrorPosition, readRegularFile, VallEError, writeOutputFile } from "@vall-e/core";
import { isLanguage, LANGUAGES, type Language } from "../text/languages.js";
import { BOS_ID, EOS_ID } from "../tokenizer/phoneme-tokenizer.js";

export const PHONEME_ARTIFACT_FORMAT = "vall-e.phonemes/1";

export interface PhonemeArtifact {
  format: typeof PHONEME_ARTIFACT_FORMAT;
  /** The text as given. */
  text: string;
  /** The model language (its language token). */
  language: Language;
  /** The espeak-ng language the phonemes come from (e.g. "en-us", "cmn-latn-pinyin"). */
  voice: string;
  /** The phonemes (IPA with stress and punctuation). */
  ipa: string;
  /** Token ids, starting with <bos> (1) and ending with </eos> (2). */
  tokens: number[];
  /** Which vocabulary produced `tokens` (see PhonemeTokenizer.fingerprint). */
  tokenizer: string;
}

/** A phoneme artifact is malformed. */
export class ArtifactFormatError extends VallEError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("ERR_ARTIFACT_FORMAT", message, options);
  }
}

/** Largest token id a phoneme artifact may hold (the phoneme vocabulary has 256 ids). */
export const MAX_PHONEME_TOKEN_ID = 255;

/** Check an untrusted value as a PhonemeArtifact; `source` names it in messages. */
export function validatePhonemeArtifact(value: unknown, source = "phoneme artifact"): PhonemeArtifact {
  const fail = (what: string) => new ArtifactFormatError(`Invalid ${source}: ${what}`);
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw fail("expected a JSON object");
  const artifact = value as Record<string, unknown>;
  if (artifact.format !== PHONEME_ARTIFACT_FORMAT) {
    throw fail(
      `${artifact.format === undefined ? 'no "format" field' : `unsupported format ${describeValue(artifact.format)}`} (expected "${PHONEME_ARTIFACT_FORMAT}")`,
    );
  }
  for (const key of ["text", "voice", "ipa", "tokenizer"] as const) {
    if (typeof artifact[key] !== "string") throw fail(`"${key}" must be a string`);
  }
  if (!isLanguage(artifact.language)) {
    throw fail(`"language" must be one of ${LANGUAGES.join(", ")}, got ${JSON.stringify(artifact.language)}`);
  }
  const tokens = artifact.tokens;
  // [<bos>, </eos>] is the empty text (ns / sr without a transcript; the CFG null input).
  if (!Array.isArray(tokens) || tokens.length < 2) throw fail('"tokens" must be an array of at least 2 token ids');
  tokens.forEach((id, index) => {
    if (!Number.isInteger(id) || id < 0 || id > MAX_PHONEME_TOKEN_ID) {
      throw fail(`tokens[${index}] must be an integer from 0 to ${MAX_PHONEME_TOKEN_ID}, got ${JSON.stringify(id)}`);
    }
  });
  if (tokens[0] !== BOS_ID || tokens[tokens.length - 1] !== EOS_ID) {
    throw fail(`"tokens" must start with <bos> (${BOS_ID}) and end with </eos> (${EOS_ID})`);
  }
  return {
    format: PHONEME_ARTIFACT_FORMAT,
    text: artifact.text as string,
    language: artifact.language,
    voice: artifact.voice as string,
    ipa: artifact.ipa as string,
    tokens: tokens as number[],
    tokenizer: artifact.tokenizer as string,
  };
}

export function serializePhonemeArtifact(artifact: PhonemeArtifact): string {
  return `${JSON.stringify(validatePhonemeArtifact(artifact), null, 2)}\n`;
}

/** The largest phoneme artifact read (a sentence's is a few kB; a 100,000-character text about 2 MB). */
export const MAX_PHONEME_ARTIFACT_BYTES = 16 * 2 ** 20;

export async function readPhonemeArtifact(path: string): Promise<PhonemeArtifact> {
  // A regular file of bounded size: a FIFO or /dev/zero is refused, not read.
  const text = (await readRegularFile(path, "Phoneme artifact", MAX_PHONEME_ARTIFACT_BYTES)).toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ArtifactFormatError(`Invalid phoneme artifact ${path}: not JSON${jsonErrorPosition(error)}`, {
      cause: error,
    });
  }
  return validatePhonemeArtifact(value, `phoneme artifact ${path}`);
}

/** Write atomically (validated first; writeOutputFile: a temporary file renamed over `path`, a FIFO streamed into). */
export async function writePhonemeArtifact(path: string, artifact: PhonemeArtifact): Promise<void> {
  await writeOutputFile(path, serializePhonemeArtifact(artifact));
}
