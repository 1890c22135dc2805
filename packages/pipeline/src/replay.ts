/**
 * Replaying a run: the inputs, model files and options of a run.json, run again — the same input files and models
 * (each checked by size and SHA-256), the same seed, the same options — give the same audio, sample for sample.
 */
import { dirname, resolve } from "node:path";
import {
  describeValue,
  fileReadError,
  InvalidArgumentError,
  jsonErrorPosition,
  readRegularFile,
  statRegularFile,
  VallEError,
} from "@vall-e/core";
import { resolveDevice } from "@vall-e/native";
import { isEspeakReference } from "@vall-e/phonemizer";
import { DECODERS } from "./engine/decoder.js";
import type { ModelFiles } from "./engine/engine.js";
import { resolveRequest } from "./engine/request.js";
import { MAX_MODEL_FILE_BYTES, MODEL_ROLES } from "./models/bundle.js";
import { checksumOf } from "./models/hub.js";
import {
  type FileChecksum,
  INPUT_FILE_KINDS,
  type InputChecksums,
  MAX_INPUT_FILE_BYTES,
  type RunManifest,
} from "./run-manifest.js";
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
 * absolute ones; a moved run folder stays replayable), only the model roles the engine has are accepted, and
 * "inputChecksums" (absent in older runs) must hold one {sha256, bytes} per input file.
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
    throw new ReplayError(`${path}: not a vall-e run manifest (format ${describeValue(run?.format)})`);
  }
  const decoder = (run.options as { decoder?: unknown } | undefined)?.decoder;
  if (decoder !== undefined && !(DECODERS as readonly unknown[]).includes(decoder)) {
    throw new ReplayError(
      `${path}: "options.decoder" must be one of ${DECODERS.join(", ")}, got ${describeValue(decoder)}`,
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
  for (const key of ["textFile", "promptCodes"] as const) {
    if (run.inputs[key] !== undefined && typeof run.inputs[key] !== "string") {
      throw new ReplayError(`${path}: "inputs.${key}" must be a file path`);
    }
  }
  if (run.inputChecksums !== undefined) checkInputChecksums(path, run);
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
  if (typeof run.inputs.textFile === "string") run.inputs.textFile = at(run.inputs.textFile);
  if (typeof run.inputs.promptCodes === "string") run.inputs.promptCodes = at(run.inputs.promptCodes);
  if (run.inputs.phonemes) run.inputs.phonemes = run.inputs.phonemes.map(at);
  if (run.inputs.responseCodes) run.inputs.responseCodes = run.inputs.responseCodes.map(at);
  for (const entry of Object.values(run.models)) if (entry) entry.path = resolve(folder, entry.path);
  return run;
}

const isChecksum = (value: unknown): value is FileChecksum =>
  typeof value === "object" &&
  value !== null &&
  /^[0-9a-f]{64}$/.test(String((value as FileChecksum).sha256)) &&
  Number.isSafeInteger((value as FileChecksum).bytes) &&
  (value as FileChecksum).bytes >= 0;

/** "inputChecksums": per slot of "inputs", a {sha256, bytes} for each file it names (null: a reference not a file). */
function checkInputChecksums(path: string, run: RunManifest): void {
  const sums = run.inputChecksums as Record<string, unknown>;
  if (typeof sums !== "object" || sums === null || Array.isArray(sums)) {
    throw new ReplayError(`${path}: "inputChecksums" must be an object`);
  }
  const shape = '{"sha256": <64 hex digits>, "bytes": <size>}';
  for (const [slot, value] of Object.entries(sums)) {
    if (!(slot in INPUT_FILE_KINDS)) {
      throw new ReplayError(
        `${path}: "inputChecksums.${slot}" is not an input file (expected ${Object.keys(INPUT_FILE_KINDS).join(", ")})`,
      );
    }
    const input = run.inputs[slot as keyof InputChecksums];
    if (input === undefined) throw new ReplayError(`${path}: "inputChecksums.${slot}" has no "inputs.${slot}"`);
    if (typeof input === "string") {
      if (!isChecksum(value)) throw new ReplayError(`${path}: "inputChecksums.${slot}" must be ${shape}`);
      continue;
    }
    const nullable = slot === "reference";
    if (
      !Array.isArray(value) ||
      value.length !== input.length ||
      !value.every((entry) => isChecksum(entry) || (nullable && entry === null))
    ) {
      throw new ReplayError(
        `${path}: "inputChecksums.${slot}" must be a list of ${input.length} ${shape}${nullable ? " (or null)" : ""}, one per file of "inputs.${slot}"`,
      );
    }
  }
}

/**
 * Every input file whose checksum the run recorded must be a regular file of the recorded size (checked before a
 * byte is hashed) and SHA-256; else a ReplayError names the file.
 */
async function checkInputFiles(run: RunManifest, signal: AbortSignal | undefined): Promise<void> {
  const sums = run.inputChecksums;
  if (sums === undefined) return;
  for (const slot of Object.keys(INPUT_FILE_KINDS) as (keyof InputChecksums)[]) {
    const paths = [run.inputs[slot] ?? []].flat();
    const recorded = [sums[slot] ?? []].flat();
    for (const [i, file] of paths.entries()) {
      const checksum = recorded[i];
      if (!checksum || isEspeakReference(file)) continue;
      const what = INPUT_FILE_KINDS[slot];
      const found = await statRegularFile(file, `The run's ${what}`, MAX_INPUT_FILE_BYTES);
      if (found.size !== checksum.bytes) {
        throw new ReplayError(
          `${file} is not the ${what} the run used: it has ${found.size} bytes, the run recorded ${checksum.bytes}`,
        );
      }
      let actual: string;
      try {
        actual = await checksumOf(file, "sha256", signal);
      } catch (error) {
        throw fileReadError(`The run's ${what}`, file, error);
      }
      if (actual !== checksum.sha256) {
        throw new ReplayError(
          `${file} is not the ${what} the run used: its SHA-256 is ${actual}, the run recorded ${checksum.sha256}`,
        );
      }
    }
  }
}

/**
 * What a replay may change: where artifacts go, threads (results do not depend on them), the device (a GPU's logits
 * differ from the CPU's by ~1e-3, which can flip a near-tie), progress, chunks, cancellation.
 */
export type ReplayOverrides = Pick<
  SynthesizeOptions,
  "artifactsDir" | "threads" | "device" | "signal" | "onProgress" | "onChunk"
>;

/**
 * Run a run.json again. Every input file and model file must still have the SHA-256 recorded (else a ReplayError
 * names the file); runs whose seed was drawn are replayed with that seed, on the device the run recorded (the CPU
 * for runs made before devices) unless `overrides.device` says otherwise.
 */
export async function replay(path: string, overrides: ReplayOverrides = {}): Promise<SynthesizeResult> {
  const run = await readRunManifest(path);
  const { inputs, options } = run;
  const request: Omit<SynthesizeOptions, "models"> = {
    ...(inputs.text === undefined ? {} : { text: inputs.text }),
    ...(inputs.textFile === undefined ? {} : { textFile: inputs.textFile }),
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
    sentenceBatch: options.sentenceBatch ?? 1,
    decoder: options.decoder ?? "encodec",
  };
  // Every recorded setting is checked before a file it names is read: a run.json that cannot run reads nothing.
  try {
    resolveRequest(request);
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    // The setting as the run.json spells it: "options.seed", "options.sampling.topP".
    const message = error.message.replace(
      / for ([\w.]+)(,|$)/,
      (_, name: string, end: string) => ` for "options.${name}"${end}`,
    );
    throw new ReplayError(`${path}: ${message}`, { cause: error });
  }
  // The device, before a file is hashed: the override, else the recorded one (refused when this build lacks it).
  const device = overrides.device ?? run.device?.spec ?? "cpu";
  resolveDevice(device);
  await checkInputFiles(run, overrides.signal);
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
  return synthesize({ ...overrides, ...request, models, device });
}
