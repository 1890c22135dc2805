/**
 * @vall-e/phonemizer — the text front-end: normalisation and sentence splitting, espeak-ng phonemes with the
 * reference's punctuation handling, and the phoneme BPE tokenizer. So far: locating the system's espeak-ng.
 */
export { type EspeakNgInstallation, locateEspeakNg } from "./espeak/locate.js";
