/**
 * @vall-e/pipeline — the stages composed into text-to-speech, with artifacts between them, model bundles,
 * long text, progress and cancellation. So far: where model bundles are looked for and cached, and prompt
 * preparation.
 */
export { type ModelDirectories, modelDirectories } from "./models/directories.js";
export { PROMPT_FRAME_RATE, type PromptCodes, preparePrompt } from "./prompt/prepare.js";
export {
  type ModelFiles,
  type PipelineProgress,
  type PipelineStage,
  type SpeechChunk,
  type SynthesizeOptions,
  type SynthesizeResult,
  synthesize,
  synthesizeStream,
} from "./synthesize.js";
