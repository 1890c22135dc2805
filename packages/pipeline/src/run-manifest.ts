/**
 * The manifest of a run (`run.json`): its inputs, the input files' and the model files' SHA-256, every option, the
 * seeds.
 */
import { MAX_AUDIO_FILE_BYTES, MAX_CODES_FILE_BYTES } from "@vall-e/codec";
import type { SentenceRecord } from "./engine/chunks.js";
import type { DecoderName } from "./engine/decoder.js";
import type { ModelFiles } from "./engine/engine.js";
import type { ResolvedSettings } from "./engine/request.js";

/** A file's SHA-256 (hex) and size in bytes. */
export interface FileChecksum {
  sha256: string;
  bytes: number;
}

export interface RunManifest {
  format: "vall-e.run/1";
  inputs: {
    text?: string;
    /** The file the text was read from (`--text-file`); the text itself is `text`. */
    textFile?: string;
    reference: string[];
    promptCodes?: string;
    phonemes?: string[];
    responseCodes?: string[];
  };
  /**
   * The SHA-256 and size of each input file, slot by slot as `inputs` names them (a reference that is not a file,
   * espeak:<voice>, is null). Absent in runs made before input files were recorded: those replay unchecked.
   */
  inputChecksums?: InputChecksums;
  /** The files used, absolute, with their SHA-256. */
  models: Partial<Record<keyof ModelFiles, { path: string; sha256: string; bytes: number }>>;
  /**
   * Every setting of the run, resolved (the seed: the one drawn when none was given; sentenceBatch: the sentences
   * generated together on the run's device, absent in runs made before batching, which generated one by one), and the
   * decoder (absent in runs made before Vocos: those decoded with EnCodec).
   */
  options: Omit<ResolvedSettings, "seed" | "sentenceBatch"> & {
    seed?: number;
    sentenceBatch?: number;
    decoder?: DecoderName;
  };
  sentences: SentenceRecord[];
  /** Seconds per stage. */
  timings: Record<string, number>;
  /** The device the models ran on (absent in runs made before devices, which ran on the CPU). */
  device?: { spec: string; name: string; description: string };
  versions: { node: string; ggml: string };
}

export interface InputChecksums {
  textFile?: FileChecksum;
  reference?: (FileChecksum | null)[];
  promptCodes?: FileChecksum;
  phonemes?: FileChecksum[];
  responseCodes?: FileChecksum[];
}

/** The input slots of run.json whose files are checksummed, and what messages call each one's file. */
export const INPUT_FILE_KINDS = {
  textFile: "text file",
  reference: "voice prompt file",
  promptCodes: "prompt codes file",
  phonemes: "phoneme artifact",
  responseCodes: "response codes file",
} as const satisfies Record<keyof InputChecksums, string>;

/** The largest input file a run may name (the largest any input reader takes: an audio file). */
export const MAX_INPUT_FILE_BYTES = Math.max(MAX_AUDIO_FILE_BYTES, MAX_CODES_FILE_BYTES);
