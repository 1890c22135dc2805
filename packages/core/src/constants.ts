/**
 * The model facts every package shares, defined once: EnCodec 24 kHz's rates and codebooks, the VALL-E model's RVQ
 * levels, languages, tasks and special phoneme ids (vall_e/models/base.py, vall_e/emb/qnt.py).
 */

/** EnCodec 24 kHz: samples per second. */
export const SAMPLE_RATE = 24_000;
/** Code frames per second (a hop of 320 samples). */
export const FRAME_RATE = 75;
/** Samples per code frame. */
export const HOP_LENGTH = SAMPLE_RATE / FRAME_RATE;
/** Codes per codebook (EnCodec's 10-bit codebooks). */
export const CODEBOOK_SIZE = 1024;
/** RVQ levels the VALL-E models use (EnCodec at 6 kbps). */
export const RVQ_LEVELS = 8;

/** The languages of the published models, in the order of their language embeddings. */
export const LANGUAGES = ["en", "ja", "de", "fr", "zh", "ko"] as const;
export type Language = (typeof LANGUAGES)[number];

/** Every task token of the vocabulary, in the order of the task embeddings. */
export const TASKS = ["tts", "tts-c", "ns", "sr", "tse", "soe", "mask", "eoe", "stt"] as const;
export type Task = (typeof TASKS)[number];

/** The tasks that generate speech: text-to-speech, and noise suppression / speech removal of the prompt. */
export const GENERATION_TASKS = ["tts", "ns", "sr"] as const;
export type GenerationTask = (typeof GENERATION_TASKS)[number];

/** How level 0 is generated: NAR-len demasking (the default) or autoregressively. */
export const MODALITIES = ["nar-len", "ar+nar"] as const;
export type Modality = (typeof MODALITIES)[number];

/** Phoneme ids with a fixed meaning in the tokenizer. */
export const PHONEME_IDS = Object.freeze({ pad: 0, bos: 1, eos: 2 });
