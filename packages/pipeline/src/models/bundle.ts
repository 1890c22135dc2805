/**
 * Model bundles (see docs/ARCHITECTURE.md): the LM GGUF, the EnCodec weights, the phoneme tokenizer and the Vocos
 * weights (the default decoder, from charactr/vocos-encodec-24khz), found in this order — explicit paths, VALL_E_MODEL_DIR, the user cache — and downloaded into the cache from Hugging Face when
 * missing. `tiny` stands for the offline random-weight bundle (models/tiny.ts).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { InvalidArgumentError, statPathSync, statRegularFile, VallEError } from "@vall-e/core";
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

export type ModelRole = "lm" | "codec" | "tokenizer" | "vocos";
export const MODEL_ROLES: readonly ModelRole[] = ["lm", "codec", "tokenizer", "vocos"];

/** Where Vocos is published (weights and config.yaml; the EnCodec part is not used). */
export const VOCOS_REPO = "charactr/vocos-encodec-24khz";

/** A bundle file on the hub, and its name in VALL_E_MODEL_DIR and the cache. */
export interface BundleFile extends HubFile {
  /** Relative to VALL_E_MODEL_DIR / the cache. */
  local: string;
  /** Small files downloaded beside it (Vocos' config.yaml), each with its own checksum. */
  companions?: HubFile[];
}

/** The files of a bundle on the hub. */
export function bundleFiles(name: string = DEFAULT_QUANT): Record<ModelRole, BundleFile> {
  const quant = toQuant(name);
  const file = (repo: string, revision: string, path: string, local = path): BundleFile => ({
    repo,
    revision,
    path,
    local,
  });
  return {
    lm: file(HUB_REPO, "gguf", `vall_e-${quant}.gguf`),
    codec: file(HUB_REPO, "gguf", "encodec.bin"),
    tokenizer: file(HUB_REPO, "hf", "tokenizer.json"),
    vocos: {
      ...file(VOCOS_REPO, "main", "pytorch_model.bin", "vocos-encodec-24khz/pytorch_model.bin"),
      companions: [{ repo: VOCOS_REPO, revision: "main", path: "config.yaml" }],
    },
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
  /** Vocos weights (pytorch_model.bin or .safetensors), or "tiny". */
  vocos?: string;
  /** Which published LM (default Q8_0). */
  quant?: string;
  /** Download what is missing (default true). */
  download?: boolean;
  /** Which files are needed (default the LM, the codec and the tokenizer). */
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

/** The largest model file accepted (the F16 LM is under 1 GB). */
export const MAX_MODEL_FILE_BYTES = 16 * 2 ** 30;

// As the loaders name them, so a missing file reads the same whichever notices first.
const WHAT: Record<ModelRole, string> = {
  lm: "Model file",
  codec: "EnCodec weights",
  tokenizer: "Tokenizer file",
  vocos: "Vocos weights",
};

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
    ...(options.vocos !== undefined ? { vocos: options.vocos } : {}),
  };
  const wholeTiny = options.model === TINY_MODEL;
  const { modelDir, cacheDir } = modelDirectories(env);
  const files = {} as Record<ModelRole, string>;
  const sources = {} as Record<ModelRole, ModelSource>;
  let tiny: Awaited<ReturnType<typeof tinyBundle>> | undefined;
  // Every path given is checked before anything is resolved, generated or downloaded — also one for a role this run
  // does not load (the codec of a run without a voice prompt): a regular file (a FIFO, a device or a folder would
  // fail only when loaded, or never), or for the codec also a Hugging Face checkpoint folder (Codec.load reads one).
  for (const [role, path] of Object.entries(requested) as [ModelRole, string][]) {
    if (path === TINY_MODEL) continue;
    if (role === "codec" && statPathSync(path)?.isDirectory()) continue;
    await statRegularFile(path, WHAT[role], MAX_MODEL_FILE_BYTES);
  }
  for (const role of need) {
    const path = requested[role] ?? (wholeTiny ? TINY_MODEL : undefined);
    if (path === undefined) continue;
    if (path === TINY_MODEL) {
      tiny ??= await tinyBundle(join(cacheDir, "tiny"), options.signal);
      files[role] = tiny[role];
      sources[role] = "tiny";
    } else {
      files[role] = path;
      sources[role] = "explicit";
    }
  }
  const isTiny = tiny !== undefined;

  const hubFiles = bundleFiles(quant);
  const missing: ModelRole[] = [];
  for (const role of need) {
    if (files[role] !== undefined) continue;
    const local = await locateModelFile(hubFiles[role].local, env);
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
      const pulled = await pullBundleFile(hubFiles[role], cacheDir, {
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

/** Download a bundle file (and its companions) into the cache: `cacheDir/<file.local>`. */
export async function pullBundleFile(
  file: BundleFile,
  cacheDir: string,
  options: Parameters<typeof pullFile>[2] = {},
): Promise<Awaited<ReturnType<typeof pullFile>>> {
  const dir = dirname(join(cacheDir, file.local));
  const pulled = await pullFile(file, dir, options);
  for (const companion of file.companions ?? []) await pullFile(companion, dir, options);
  return pulled;
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
  return record === undefined || Number(statPathSync(cached)?.size ?? -1) === record.checksum.size
    ? { path: cached, source: "cache" }
    : undefined;
}

function unavailable(
  missing: readonly ModelRole[],
  files: Record<ModelRole, BundleFile>,
  cacheDir: string,
  modelDir: string | undefined,
  reason: string,
  cause?: unknown,
): VallEError {
  const names = missing
    .map((role) => `${files[role].path} (${files[role].repo}, branch ${files[role].revision})`)
    .join(", ");
  const where = [modelDir ? `VALL_E_MODEL_DIR (${modelDir})` : "VALL_E_MODEL_DIR", cacheDir].join(" or ");
  // The flag that selects the tiny bundle for what is missing: --model stands for all its files; a command that
  // needs only the codec, the tokenizer or Vocos takes --codec tiny / --tokenizer tiny / --vocos tiny.
  const tiny = missing.includes("lm") ? "--model tiny" : missing.map((role) => `--${role} tiny`).join(" and ");
  // Vocos is the default decoder; EnCodec's own decoder needs no other download (never switched to silently).
  const encodec = missing.includes("vocos") ? ", or decode with `--vocoder encodec` (EnCodec's own decoder)" : "";
  return new VallEError(
    "ERR_MODELS_UNAVAILABLE",
    `The model files are not on this machine and cannot be downloaded (${reason}). Needed: ${names}. Put them in ${where}, run \`vall-e models pull\` when online${encodec}, or use ${tiny} (an offline random-weight model: its audio is noise).`,
    cause === undefined ? {} : { cause },
  );
}
