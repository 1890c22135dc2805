/** The manifest of a run (`run.json`): its inputs, the model files and their SHA-256, every option, the seeds. */
import type { SentenceRecord } from "./engine/chunks.js";
import type { DecoderName } from "./engine/decoder.js";
import type { ModelFiles } from "./engine/engine.js";
import type { ResolvedSettings } from "./engine/request.js";

export interface RunManifest {
  format: "vall-e.run/1";
  inputs: {
    text?: string;
    reference: string[];
    promptCodes?: string;
    phonemes?: string[];
    responseCodes?: string[];
  };
  /** The files used, absolute, with their SHA-256. */
  models: Partial<Record<keyof ModelFiles, { path: string; sha256: string; bytes: number }>>;
  /**
   * Every setting of the run, resolved (the seed: the one drawn when none was given), and the decoder (absent in
   * runs made before Vocos: those decoded with EnCodec).
   */
  options: Omit<ResolvedSettings, "seed"> & { seed?: number; decoder?: DecoderName };
  sentences: SentenceRecord[];
  /** Seconds per stage. */
  timings: Record<string, number>;
  versions: { node: string; ggml: string };
}
