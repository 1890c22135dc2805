/**
 * Replaying a run: the inputs, model files and options of a run.json, run again — the same models (checked by
 * SHA-256), the same seed, the same options — give the same audio, sample for sample.
 */
import { dirname, resolve } from "node:path";
import { fileReadError, jsonErrorPosition, readRegularFile, statRegularFile, VallEError } from "@vall-e/core";
import { isEspeakReference } from "@vall-e/phonemizer";
import { DECODERS } from "./engine/decoder.js";
import type { ModelFiles } from "./engine/engine.js";
import { MODEL_ROLES } from "./models/bundle.js";
import { checksumOf } from "./models/hub.js";

/** The largest model file a run may name (the F16 LM is under 1 GB). */
const MAX_MODEL_FILE_BYTES = 16 * 2 ** 30;

import type { RunManifest } from "./run-manifest.js";
import { type SynthesizeOptions, type SynthesizeResult, synthesize } from "./synthesize.js";

/** A run.json is malformed, or its models are not the ones it names. */
export class ReplayError extends VallEError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("ERR_REPLAY", message, options);
  }
}

/** The largest run.json read (a run of thousands of sentences is well below it). */
export const MAX_RUN_MANIFEST_BYTES = 16 * 2 ** 20;

/**
 * Read and check a run.json. Paths in it that are relative are taken relative to its folder (the engine writes
 * absolute ones; a moved run folder stays replayable), and only the model roles the engine has are accepted.
 */
export async function readRunManifest(path: string): Promise<RunManifest> {
  const text = (await readRegularFile(path, "Run manifest", MAX_RUN_MANIFEST_BYTES)).toString("utf8");
  let run: RunManifest;
  try {
    run = JSON.parse(text) as RunManifest;
  } catch (error) {
    throw new ReplayError(`${path} is not JSON${jsonErrorPosition(error)}`, { cause: error });
  }
  if (run?.format !== "vall-e.run/1") {
    throw new ReplayError(`${path}: not a vall-e run manifest (format ${JSON.stringify(run?.format)})`);
  }
  const decoder = (run.options as { decoder?: unknown } | undefined)?.decoder;
  if (decoder !== undefined && !(DECODERS as readonly unknown[]).includes(decoder)) {
    throw new ReplayError(
      `${path}: "options.decoder" must be one of ${DECODERS.join(", ")}, got ${JSON.stringify(decoder)}`,
    );
  }
  const isObject = (value: unknown) => typeof value === "object" && value !== null && !Array.isArray(value);
  if (!isObject(run.inputs) || !isObject(run.options) || !isObject(run.models)) {
    throw new ReplayError(`${path}: "inputs", "options" and "models" must be objects`);
  }
  const paths = (value: unknown) => Array.isArray(value) && value.every((p) => typeof p === "string");
  if (!paths(run.inputs.reference)) throw new ReplayError(`${path}: "inputs.reference" must be a list of file paths`);
  for (const key of ["phonemes", "responseCodes"] as const) {
    if (run.inputs[key] !== undefined && !paths(run.inputs[key])) {
      throw new ReplayError(`${path}: "inputs.${key}" must be a list of file paths`);
    }
  }
  for (const [role, entry] of Object.entries(run.models)) {
    if (!(MODEL_ROLES as readonly string[]).includes(role)) {
      throw new ReplayError(`${path}: "models.${role}" is not a model role (expected ${MODEL_ROLES.join(", ")})`);
    }
    if (!isObject(entry) || typeof entry?.path !== "string" || !/^[0-9a-f]{64}$/.test(String(entry?.sha256))) {
      throw new ReplayError(`${path}: "models.${role}" must hold a "path" and a hex "sha256"`);
    }
    if (entry.bytes !== undefined && !(Number.isSafeInteger(entry.bytes) && entry.bytes >= 0)) {
      throw new ReplayError(`${path}: "models.${role}.bytes" must be a size in bytes`);
    }
  }
  const folder = dirname(resolve(path));
  const at = (p: string) => (isEspeakReference(p) ? p : resolve(folder, p));
  run.inputs.reference = run.inputs.reference.map(at);
  if (typeof run.inputs.promptCodes === "string") run.inputs.promptCodes = at(run.inputs.promptCodes);
  if (run.inputs.phonemes) run.inputs.phonemes = run.inputs.phonemes.map(at);
  if (run.inputs.responseCodes) run.inputs.responseCodes = run.inputs.responseCodes.map(at);
  for (const entry of Object.values(run.models)) if (entry) entry.path = resolve(folder, entry.path);
  return run;
}

/** What a replay may change: where artifacts go, threads (results do not depend on them), progress, chunks, cancellation. */
export type ReplayOverrides = Pick<SynthesizeOptions, "artifactsDir" | "threads" | "signal" | "onProgress" | "onChunk">;

/**
 * Run a run.json again. Every model file must still have the SHA-256 recorded (else a ReplayError names the file);
 * runs whose seed was drawn are replayed with that seed.
 */
export async function replay(path: string, overrides: ReplayOverrides = {}): Promise<SynthesizeResult> {
  const run = await readRunManifest(path);
  const models: Partial<ModelFiles> = {};
  for (const [role, entry] of Object.entries(run.models) as [keyof ModelFiles, RunManifest["models"]["lm"]][]) {
    if (!entry) continue;
    // A regular file of the recorded size, before a byte is hashed (a FIFO or /dev/zero would be read forever).
    const found = await statRegularFile(entry.path, `The run's ${role} file`, MAX_MODEL_FILE_BYTES);
    if (entry.bytes !== undefined && found.size !== entry.bytes) {
      throw new ReplayError(
        `${entry.path} is not the ${role} file the run used: it has ${found.size} bytes, the run recorded ${entry.bytes}`,
      );
    }
    let actual: string;
    try {
      actual = await checksumOf(entry.path, "sha256", overrides.signal);
    } catch (error) {
      throw fileReadError(`The run's ${role} file`, entry.path, error);
    }
    if (actual !== entry.sha256) {
      throw new ReplayError(
        `${entry.path} is not the ${role} file the run used: its SHA-256 is ${actual}, the run recorded ${entry.sha256}`,
      );
    }
    models[role] = entry.path;
  }
  const { inputs, options } = run;
  return synthesize({
    ...overrides,
    models,
    ...(inputs.text === undefined ? {} : { text: inputs.text }),
    ...(inputs.reference.length > 0 ? { reference: inputs.reference } : {}),
    ...(inputs.promptCodes === undefined ? {} : { promptCodes: inputs.promptCodes }),
    ...(inputs.phonemes === undefined ? {} : { phonemes: inputs.phonemes }),
    ...(inputs.responseCodes === undefined ? {} : { responseCodes: inputs.responseCodes }),
    task: options.task,
    language: options.language,
    modality: options.modality,
    sampling: options.sampling,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    maxDuration: options.maxDuration,
    maxLevels: options.maxLevels,
    promptSeconds: options.promptSeconds,
    remask: options.remask,
    scoring: options.scoring,
    sentencePause: options.sentencePause,
    contextHistory: options.contextHistory ?? 0,
    decoder: options.decoder ?? "encodec",
  });
}
