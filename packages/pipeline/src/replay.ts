/**
 * Replaying a run: the inputs, model files and options of a run.json, run again — the same models (checked by
 * SHA-256), the same seed, the same options — give the same audio, sample for sample.
 */
import { readFile } from "node:fs/promises";
import { fileReadError, VallEError } from "@vall-e/core";
import { DECODERS } from "./engine/decoder.js";
import type { ModelFiles } from "./engine/engine.js";
import { checksumOf } from "./models/hub.js";
import type { RunManifest } from "./run-manifest.js";
import { type SynthesizeOptions, type SynthesizeResult, synthesize } from "./synthesize.js";

/** A run.json is malformed, or its models are not the ones it names. */
export class ReplayError extends VallEError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("ERR_REPLAY", message, options);
  }
}

export async function readRunManifest(path: string): Promise<RunManifest> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw fileReadError("Run manifest", path, error);
  }
  let run: RunManifest;
  try {
    run = JSON.parse(text) as RunManifest;
  } catch (error) {
    throw new ReplayError(`${path} is not JSON (${(error as Error).message})`, { cause: error });
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
    if (!isObject(entry) || typeof entry?.path !== "string" || !/^[0-9a-f]{64}$/.test(String(entry?.sha256))) {
      throw new ReplayError(`${path}: "models.${role}" must hold a "path" and a hex "sha256"`);
    }
  }
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
