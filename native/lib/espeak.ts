/**
 * espeak-ng through the native core: text to raw IPA (phonemes separated by '_', words by ' ', stress kept), one
 * espeak_TextToPhonemes call per clause until each text is consumed. espeak-ng is not thread-safe; the core
 * serialises every call, and each batch runs on a worker thread so the event loop keeps going.
 */

import { invalid, VallEError } from "@vall-e/core";
import { binding } from "./binding.js";
import { callNative } from "./errors.js";

export interface EspeakInfo {
  /** espeak-ng's version, e.g. "1.51". */
  version: string;
  /** The espeak-ng-data directory in use. */
  dataDir: string;
  /** The libespeak-ng that was loaded (a file name the system resolves, or VALL_E_ESPEAK_LIBRARY). */
  library: string;
  /** Language code → identifier of its first (preferred) voice, in espeak-ng's order. */
  languages: ReadonlyMap<string, string>;
}

/** espeak-ng is missing from this machine (the addon loads the system's libespeak-ng at run time). */
export class EspeakUnavailableError extends VallEError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("ERR_ESPEAK_UNAVAILABLE", message, options);
  }
}

let initialised: Promise<EspeakInfo> | undefined;

/** Initialise espeak-ng (once per process) and describe it. */
export function espeakInfo(): Promise<EspeakInfo> {
  initialised ??= (async () => {
    const native = binding();
    const library = native.espeakLibrary();
    if (library.path === undefined)
      throw new EspeakUnavailableError(library.problem ?? "espeak-ng could not be loaded");
    try {
      const info = await callNative(() => native.espeakInit());
      const languages = new Map<string, string>();
      for (const line of info.languages.split("\n")) {
        const [language, voice] = line.split("\t");
        if (language && voice) languages.set(language, voice);
      }
      return { version: info.version, dataDir: info.dataDir, library: library.path, languages };
    } catch (error) {
      throw new EspeakUnavailableError((error as Error).message, { cause: error });
    }
  })();
  initialised.catch(() => {
    initialised = undefined; // let a later call retry
  });
  return initialised;
}

/**
 * Raw espeak-ng IPA for each text, in `language` (an espeak-ng language code such as "en-us"). Texts must not
 * contain NUL; an unknown language is an InvalidArgumentError.
 */
export async function espeakTextToPhonemes(language: string, texts: readonly string[]): Promise<string[]> {
  const info = await espeakInfo();
  if (!info.languages.has(language)) {
    throw invalid("an espeak-ng language (see `espeak-ng --voices`)", "voice", language);
  }
  for (const text of texts) {
    if (typeof text !== "string" || text.includes("\0")) throw invalid("strings without NUL characters", "texts", text);
  }
  return callNative(() => binding().espeakTextToPhonemes(language, [...texts]));
}
