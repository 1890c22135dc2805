/**
 * Model bundles (see docs/ARCHITECTURE.md): the LM GGUF, the EnCodec weights and the phoneme tokenizer, found in this
 * order — explicit paths, VALL_E_MODEL_DIR, the user cache — and downloaded into the cache from Hugging Face when
 * missing. `tiny` stands for the offline random-weight bundle (models/tiny.ts).
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { InvalidArgumentError, VallEError } from "@vall-e/core";
import { modelDirectories } from "./directories.js";
import {
  type DownloadProgress,
  HUB_REPO,
  type HubFile,
  hubOptionsFromEnv,
  NetworkError,
  pullFile,
  readDownloadRecord,
} from "./hub.js";
import { TINY_MODEL, tinyBundle } from "./tiny.js";

/** The quantizations published on the `gguf` branch of the hub's `ecker/vall-e` repository. */
export const QUANTS = ["Q8_0", "F16", "BF16", "Q4_K", "Q3_K", "Q2_K"] as const;
export type Quant = (typeof QUANTS)[number];
export const DEFAULT_QUANT: Quant = "Q8_0";

export type ModelRole = "lm" | "codec" | "tokenizer";

/** The three files of a bundle on the hub. */
export function bundleFiles(name: string = DEFAULT_QUANT): Record<ModelRole, HubFile> {
  const quant = toQuant(name);
  return {
    lm: { repo: HUB_REPO, revision: "gguf", path: `vall_e-${quant}.gguf` },
    codec: { repo: HUB_REPO, revision: "gguf", path: "encodec.bin" },
    tokenizer: { repo: HUB_REPO, revision: "hf", path: "tokenizer.json" },
  };
}

export function checkQuant(quant: string): asserts quant is Quant {
  if (!(QUANTS as readonly string[]).includes(quant)) {
    throw new InvalidArgumentError(`Unknown quant ${JSON.stringify(quant)}: expected one of ${QUANTS.join(", ")}`);
  }
}

/** A quant by name, in any letter case (`f16`, `q8_0`); an unknown one is refused naming the published ones. */
export function toQuant(name: string): Quant {
  const quant = QUANTS.find((q) => typeof name === "string" && q.toLowerCase() === name.toLowerCase());
  checkQuant(quant ?? name);
  return quant ?? (name as Quant);
}

/** Where a resolved file came from. */
export type ModelSource = "explicit" | "model-dir" | "cache" | "downloaded" | "tiny";

export interface ResolveModelsOptions {
  /** An LM GGUF path, or "tiny" for the offline random-weight bundle (all three files). */
  model?: string;
  /** EnCodec weights, or "tiny". */
  codec?: string;
  /** tokenizer.json or a VALL-E GGUF, or "tiny". */
  tokenizer?: string;
  /** Which published LM (default Q8_0). */
  quant?: string;
  /** Download what is missing (default true). */
  download?: boolean;
  /** Which of the three are needed (default all). */
  need?: readonly ModelRole[];
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onProgress?: (event: DownloadProgress) => void;
  onWait?: (file: string) => void;
}

export interface ResolvedModels {
  files: Record<ModelRole, string>;
  sources: Record<ModelRole, ModelSource>;
  /** A file of the `tiny` bundle is in use: random weights, the audio is noise. */
  tiny: boolean;
}

// As the loaders name them, so a missing file reads the same whichever notices first.
const WHAT: Record<ModelRole, string> = { lm: "Model file", codec: "EnCodec weights", tokenizer: "Tokenizer file" };

/**
 * Find (or fetch) the bundle's files. A cached file whose download record disagrees with its size is treated as
 * corrupt and downloaded again.
 */
export async function resolveModels(options: ResolveModelsOptions = {}): Promise<ResolvedModels> {
  const env = options.env ?? process.env;
  const quant = toQuant(options.quant ?? DEFAULT_QUANT);
  const need = options.need ?? (["lm", "codec", "tokenizer"] as const);
  // "tiny" for --model selects the whole tiny bundle (explicit codec/tokenizer paths still win); for --codec or
  // --tokenizer, just that file of it.
  const requested: Partial<Record<ModelRole, string>> = {
    ...(options.model !== undefined ? { lm: options.model } : {}),
    ...(options.codec !== undefined ? { codec: options.codec } : {}),
    ...(options.tokenizer !== undefined ? { tokenizer: options.tokenizer } : {}),
  };
  const wholeTiny = options.model === TINY_MODEL;
  const { modelDir, cacheDir } = modelDirectories(env);
  const files = {} as Record<ModelRole, string>;
  const sources = {} as Record<ModelRole, ModelSource>;
  let tiny: Awaited<ReturnType<typeof tinyBundle>> | undefined;
  for (const role of need) {
    const path = requested[role] ?? (wholeTiny ? TINY_MODEL : undefined);
    if (path === undefined) continue;
    if (path === TINY_MODEL) {
      tiny ??= await tinyBundle(join(cacheDir, "tiny"), options.signal);
      files[role] = tiny[role];
      sources[role] = "tiny";
    } else {
      if (!existsSync(path)) throw new VallEError("ERR_FILE_NOT_FOUND", `${WHAT[role]} not found: ${path}`);
      files[role] = path;
      sources[role] = "explicit";
    }
  }
  const isTiny = tiny !== undefined;

  const hubFiles = bundleFiles(quant);
  const missing: ModelRole[] = [];
  for (const role of need) {
    if (files[role] !== undefined) continue;
    const local = await locateModelFile(hubFiles[role].path, env);
    if (local) {
      files[role] = local.path;
      sources[role] = local.source;
    } else missing.push(role);
  }
  if (missing.length === 0) return { files, sources, tiny: isTiny };

  const hub = hubOptionsFromEnv(env);
  if (options.download === false || hub.offline) {
    throw unavailable(
      missing,
      hubFiles,
      cacheDir,
      modelDir,
      hub.offline ? "HF_HUB_OFFLINE is set" : "downloads are off",
    );
  }
  for (const role of missing) {
    try {
      const pulled = await pullFile(hubFiles[role], cacheDir, {
        ...hub,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        ...(options.onWait ? { onWait: options.onWait } : {}),
      });
      files[role] = pulled.path;
      sources[role] = "downloaded";
    } catch (error) {
      if (error instanceof NetworkError) throw unavailable(missing, hubFiles, cacheDir, modelDir, error.message, error);
      throw error;
    }
  }
  return { files, sources, tiny: isTiny };
}

/**
 * Where a bundle file already is on this machine: `VALL_E_MODEL_DIR`, then the cache — where a file we downloaded
 * counts only while it still has the size the hub gave (else it is damaged and will be fetched again).
 */
export async function locateModelFile(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ path: string; source: "model-dir" | "cache" } | undefined> {
  const { modelDir, cacheDir } = modelDirectories(env);
  if (modelDir !== undefined && existsSync(join(modelDir, name)))
    return { path: join(modelDir, name), source: "model-dir" };
  const cached = join(cacheDir, name);
  if (!existsSync(cached)) return undefined;
  const record = await readDownloadRecord(cached);
  return record === undefined || statSync(cached).size === record.checksum.size
    ? { path: cached, source: "cache" }
    : undefined;
}

function unavailable(
  missing: readonly ModelRole[],
  files: Record<ModelRole, HubFile>,
  cacheDir: string,
  modelDir: string | undefined,
  reason: string,
  cause?: unknown,
): VallEError {
  const names = missing.map((role) => `${files[role].path} (branch ${files[role].revision})`).join(", ");
  const where = [modelDir ? `VALL_E_MODEL_DIR (${modelDir})` : "VALL_E_MODEL_DIR", cacheDir].join(" or ");
  // The flag that selects the tiny bundle for what is missing: --model stands for all three files; a command that
  // needs only the codec or the tokenizer takes --codec tiny / --tokenizer tiny.
  const tiny = missing.includes("lm") ? "--model tiny" : missing.map((role) => `--${role} tiny`).join(" and ");
  return new VallEError(
    "ERR_MODELS_UNAVAILABLE",
    `The model files are not on this machine and cannot be downloaded (${reason}). Needed from ${HUB_REPO}: ${names}. Put them in ${where}, run \`vall-e models pull\` when online, or use ${tiny} (an offline random-weight model: its audio is noise).`,
    cause === undefined ? {} : { cause },
  );
}
