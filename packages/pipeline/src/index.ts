/**
 * @vall-e/pipeline — the stages composed into text-to-speech, with artifacts between them, model bundles,
 * long text, progress and cancellation. So far: where model bundles are looked for and cached.
 */
export { type ModelDirectories, modelDirectories } from "./models/directories.js";
