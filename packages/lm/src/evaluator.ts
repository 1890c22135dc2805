/**
 * What the inference procedures (inference/) need from a model context, and nothing more: assemble an input with the
 * model's profile, evaluate inputs together, and the KV-cached causal calls. LanguageModelContext implements it; the
 * procedures depend on this interface, so language-model.ts sits below inference/ with no import back.
 */
import type { AssembledInput, InputSpec, ModelProfile } from "./inputs/assemble.js";

export interface EvaluateOptions {
  signal?: AbortSignal | undefined;
}

export interface Evaluator {
  /** The tasks the model can generate (its GGUF's `vall_e.tasks`, else tts, ns and sr). */
  readonly tasks: readonly string[];
  /** The model's profile (positions, attention, activation). */
  readonly profile: ModelProfile;
  /** Assemble (and validate) an input with the model's profile. */
  assemble(spec: InputSpec, options?: { cfgNull?: boolean }): AssembledInput;
  /** Evaluate inputs together without the cache: the logits of each input's output rows over their shared head. */
  forward(inputs: AssembledInput[], options?: EvaluateOptions): Promise<Float32Array>;
  /** Clear the cache, evaluate a causal input into it; the logits of its last row. */
  prefill(input: AssembledInput, options?: EvaluateOptions): Promise<Float32Array>;
  /** Append one token (its embedding rows and position id) after the cached ones; the logits of that token. */
  step(rows: readonly number[], position: number, options?: EvaluateOptions): Promise<Float32Array>;
  /** Continue from another evaluator's cache (its tokens and head become this one's). */
  copyCacheFrom(source: Evaluator): Promise<void>;
  /** A new, empty evaluator of the same model and size (freed by its dispose). */
  sibling(): Promise<Evaluator>;
  dispose(): Promise<void>;
}

/** Something that makes evaluators: a loaded model. */
export interface EvaluatorSource {
  createContext(options: { contextSize?: number; threads?: number }): Promise<Evaluator>;
}
