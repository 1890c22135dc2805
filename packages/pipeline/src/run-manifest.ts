/** The manifest of a run (`run.json`): its inputs, the model files and their SHA-256, every option, the seeds. */
import type { GenerationTask, Language, Modality } from "@vall-e/core";
import type { SamplingOptions } from "@vall-e/lm";
import type { SentenceRecord } from "./engine/chunks.js";
import type { ModelFiles } from "./engine/engine.js";

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
  options: {
    task: GenerationTask;
    language: Language | "auto";
    modality: Modality;
    sampling: Partial<SamplingOptions>;
    seed?: number;
    maxDuration: number;
    maxLevels: number;
    promptSeconds: number;
    remask: boolean;
    scoring: "probability" | "entropy";
    sentencePause: number;
    contextHistory: number;
  };
  sentences: SentenceRecord[];
  /** Seconds per stage. */
  timings: Record<string, number>;
  versions: { node: string; ggml: string };
}
