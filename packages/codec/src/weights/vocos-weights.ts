/**
 * Vocos weights for EnCodec codes (`charactr/vocos-encodec-24khz`: gemelo-ai/vocos `vocos/pretrained.py`
 * `Vocos.from_pretrained`, `feature_extractors.py` `EncodecFeatures`, `models.py` `VocosBackbone`, `heads.py`
 * `ISTFTHead`): the state dict read from `pytorch_model.bin` (a `torch.save` zip) or a `.safetensors` copy, its
 * configuration inferred from the tensor shapes and cross-checked with the `config.yaml` beside it, every tensor
 * checked by name, shape, dtype and value. Also seeded random-weight models of any size in the same layout, for tests.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { CODEBOOK_SIZE, expectInteger, HOP_LENGTH, invalid, readRegularFile } from "@vall-e/core";
import writeFileAtomic from "write-file-atomic";
import { parse as parseYaml } from "yaml";
import { CodecFormatError, fileWriteError } from "../errors.js";
import { parseSafetensors } from "./huggingface.js";
import { seededRandom } from "./random.js";
import { isZip, MAX_CHECKPOINT_BYTES, parseTorchStateDict, writeTorchStateDict } from "./torch-zip.js";

export interface VocosConfig {
  /** Feature size = EnCodec's latent size (backbone `input_channels`). */
  inputChannels: number;
  /** Backbone width (`dim`). */
  dim: number;
  /** ConvNeXt hidden width (`intermediate_dim`). */
  intermediateDim: number;
  /** ConvNeXt blocks (`num_layers`). */
  layers: number;
  /** Rows of every AdaLayerNorm scale/shift table (`adanorm_num_embeddings`): one per bandwidth id. */
  adanormEmbeddings: number;
  /** ISTFT size (`n_fft`). */
  nFft: number;
  /** ISTFT hop (`hop_length`). */
  hopLength: number;
  /** EnCodec codebooks in `feature_extractor.codebook_weights`. */
  codebooks: number;
  /** Codes per codebook. */
  bins: number;
}

/** A tensor in PyTorch's shape order (Linear weights `[out, in]`, Conv1d weights `[out, in / groups, kernel]`). */
export interface VocosTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface VocosWeights {
  /** The weights file read. */
  path: string;
  config: VocosConfig;
  /** Every state-dict key (without the `feature_extractor.encodec.*` ones), in `vocosTensorShapes` order. */
  tensors: VocosTensor[];
}

export interface ReadVocosOptions {
  /** The model's `config.yaml` (default: `config.yaml` beside the weights, when present). */
  config?: string;
}

export interface RandomVocosOptions {
  seed?: number;
  /** Sizes (default `TINY_VOCOS_CONFIG`); nFft, hopLength and bins must stay 1280, 320, 1024. */
  config?: Partial<VocosConfig>;
}

/** `charactr/vocos-encodec-24khz`. */
export const VOCOS_ENCODEC_24KHZ: VocosConfig = Object.freeze({
  inputChannels: 128,
  dim: 384,
  intermediateDim: 1152,
  layers: 8,
  adanormEmbeddings: 4,
  nFft: 1280,
  hopLength: HOP_LENGTH,
  codebooks: 16,
  bins: CODEBOOK_SIZE,
});

/** The tests' tiny random Vocos: the real head and codebook layout, a small backbone. */
export const TINY_VOCOS_CONFIG: VocosConfig = Object.freeze({
  inputChannels: 8,
  dim: 16,
  intermediateDim: 48,
  layers: 2,
  adanormEmbeddings: 4,
  nFft: 1280,
  hopLength: HOP_LENGTH,
  codebooks: 16,
  bins: CODEBOOK_SIZE,
});

/** The bandwidths (kbps) `bandwidth_id` 0…3 stands for (`EncodecFeatures` `bandwidths`). */
const BANDWIDTHS = [1.5, 3.0, 6.0, 12.0];
const KERNEL = 7;
/** The official code re-adds these (EnCodec's own weights) before loading; they are not Vocos weights. */
const IGNORED_PREFIX = "feature_extractor.encodec.";

/** Every tensor of a Vocos with `config`, in state-dict order, with its PyTorch shape. */
export function vocosTensorShapes(config: VocosConfig): Map<string, number[]> {
  const { inputChannels, dim, intermediateDim, adanormEmbeddings, nFft } = config;
  const shapes = new Map<string, number[]>([
    ["feature_extractor.codebook_weights", [config.codebooks * config.bins, inputChannels]],
    ["backbone.embed.weight", [dim, inputChannels, KERNEL]],
    ["backbone.embed.bias", [dim]],
    ["backbone.norm.scale.weight", [adanormEmbeddings, dim]],
    ["backbone.norm.shift.weight", [adanormEmbeddings, dim]],
  ]);
  for (let i = 0; i < config.layers; i++) {
    const block = `backbone.convnext.${i}`;
    shapes.set(`${block}.gamma`, [dim]);
    shapes.set(`${block}.dwconv.weight`, [dim, 1, KERNEL]);
    shapes.set(`${block}.dwconv.bias`, [dim]);
    shapes.set(`${block}.norm.scale.weight`, [adanormEmbeddings, dim]);
    shapes.set(`${block}.norm.shift.weight`, [adanormEmbeddings, dim]);
    shapes.set(`${block}.pwconv1.weight`, [intermediateDim, dim]);
    shapes.set(`${block}.pwconv1.bias`, [intermediateDim]);
    shapes.set(`${block}.pwconv2.weight`, [dim, intermediateDim]);
    shapes.set(`${block}.pwconv2.bias`, [dim]);
  }
  shapes.set("backbone.final_layer_norm.weight", [dim]);
  shapes.set("backbone.final_layer_norm.bias", [dim]);
  shapes.set("head.out.weight", [nFft + 2, dim]);
  shapes.set("head.out.bias", [nFft + 2]);
  shapes.set("head.istft.window", [nFft]);
  return shapes;
}

type Loaded = Map<string, { shape: number[]; data: Float32Array }>;

async function loadStateDict(path: string): Promise<Loaded> {
  // Only a regular file (a FIFO or /dev/zero is refused, not read), of a checkpoint's size at most.
  const bytes = await readRegularFile(path, "Vocos weights", MAX_CHECKPOINT_BYTES);
  if (isZip(bytes) || !path.endsWith(".safetensors")) return parseTorchStateDict(bytes, path);
  const out: Loaded = new Map();
  for (const [name, entry] of parseSafetensors(bytes, path, { otherDtypes: "refuse" })) {
    out.set(name, { shape: entry.shape, data: Float32Array.from(entry.data) });
  }
  return out;
}

/** The configuration the shapes of `tensors` say (every tensor is checked against it afterwards). */
function inferConfig(tensors: Loaded, path: string): VocosConfig {
  const fail = (what: string) => new CodecFormatError(`${path}: ${what}`);
  const shapeOf = (name: string, symbolic: string) => {
    const tensor = tensors.get(name);
    if (!tensor) throw fail(`tensor '${name}' is missing (expected shape ${symbolic})`);
    if (tensor.shape.length !== symbolic.split(",").length)
      throw fail(`tensor '${name}' has shape [${tensor.shape}], expected ${symbolic}`);
    return tensor.shape as [number, number, number];
  };
  const [dim, inputChannels] = shapeOf("backbone.embed.weight", "[dim, input_channels, 7]");
  const blocks = new Set<number>();
  for (const name of tensors.keys()) {
    const block = /^backbone\.convnext\.(\d+)\./.exec(name);
    if (block) blocks.add(Number(block[1]));
  }
  if (blocks.size === 0)
    throw fail("no backbone.convnext.N tensors (a Vocos backbone has at least one ConvNeXt block)");
  const layers = Math.max(...blocks) + 1;
  if (blocks.size !== layers) {
    const gap = Array.from({ length: layers }, (_, i) => i).find((i) => !blocks.has(i));
    throw fail(
      `the tensors of ConvNeXt block backbone.convnext.${gap} are missing (blocks up to ${layers - 1} are present)`,
    );
  }
  const [intermediateDim] = shapeOf("backbone.convnext.0.pwconv1.weight", "[intermediate_dim, dim]");
  const [adanormEmbeddings] = shapeOf("backbone.norm.scale.weight", "[adanorm_num_embeddings, dim]");
  const [nFft] = shapeOf("head.istft.window", "[n_fft]");
  const [rows] = shapeOf("feature_extractor.codebook_weights", "[codebooks × 1024, input_channels]");
  if (nFft !== 4 * HOP_LENGTH) {
    throw fail(
      `tensor 'head.istft.window' has ${nFft} values (n_fft ${nFft}), expected ${4 * HOP_LENGTH} (n_fft = 4 × hop ${HOP_LENGTH}: EnCodec's 75 Hz frames)`,
    );
  }
  if (rows === 0 || rows % CODEBOOK_SIZE !== 0) {
    throw fail(
      `tensor 'feature_extractor.codebook_weights' has shape [${tensors.get("feature_extractor.codebook_weights")?.shape}], expected [codebooks × ${CODEBOOK_SIZE}, input_channels] (${CODEBOOK_SIZE} codes per codebook)`,
    );
  }
  return {
    inputChannels,
    dim,
    intermediateDim,
    layers,
    adanormEmbeddings,
    nFft,
    hopLength: HOP_LENGTH,
    codebooks: rows / CODEBOOK_SIZE,
    bins: CODEBOOK_SIZE,
  };
}

function checkTensors(tensors: Loaded, config: VocosConfig, path: string): VocosTensor[] {
  const fail = (what: string) => new CodecFormatError(`${path}: ${what}`);
  const expected = vocosTensorShapes(config);
  const out: VocosTensor[] = [];
  for (const [name, shape] of expected) {
    const tensor = tensors.get(name);
    if (!tensor) throw fail(`tensor '${name}' is missing (expected shape [${shape}])`);
    if (tensor.shape.length !== shape.length || tensor.shape.some((size, axis) => size !== shape[axis]))
      throw fail(`tensor '${name}' has shape [${tensor.shape}], expected [${shape}]`);
    const bad = tensor.data.findIndex((value) => !Number.isFinite(value));
    if (bad >= 0) throw fail(`tensor '${name}' holds a non-finite value (${tensor.data[bad]} at index ${bad})`);
    out.push({ name, shape: [...shape], data: tensor.data });
  }
  for (const [name, tensor] of tensors) {
    if (!expected.has(name) && !name.startsWith(IGNORED_PREFIX)) {
      throw fail(
        `unexpected tensor '${name}' (shape [${tensor.shape}]): a Vocos with ${config.layers} ConvNeXt blocks has only feature_extractor.codebook_weights, backbone.* and head.* tensors`,
      );
    }
  }
  return out;
}

/** Cross-check `config.yaml` (the `Vocos.from_hparams` layout) with the configuration the weights have. */
async function checkConfigFile(configPath: string, config: VocosConfig): Promise<void> {
  const text = (await readRegularFile(configPath, "Vocos config", 2 ** 20)).toString("utf8");
  const fail = (what: string) => new CodecFormatError(`${configPath}: ${what}`);
  let root: unknown;
  try {
    root = parseYaml(text);
  } catch (error) {
    throw new CodecFormatError(`${configPath}: not YAML (${(error as Error).message.split("\n")[0]})`, {
      cause: error,
    });
  }
  const section = (value: unknown, field: string): Record<string, unknown> => {
    if (value === null || typeof value !== "object" || Array.isArray(value))
      throw fail(`${field} is ${value === undefined ? "missing" : JSON.stringify(value)}, expected a mapping`);
    return value as Record<string, unknown>;
  };
  const top = section(root, "the document");
  const show = (value: unknown) => (value === undefined ? "missing" : JSON.stringify(value));
  const parts = {
    feature_extractor: ["vocos.feature_extractors.EncodecFeatures"],
    backbone: ["vocos.models.VocosBackbone"],
    head: ["vocos.heads.ISTFTHead"],
  } as const;
  const args: Record<string, Record<string, unknown>> = {};
  for (const [part, [classPath]] of Object.entries(parts)) {
    const node = section(top[part], part);
    if (node.class_path !== undefined && node.class_path !== classPath)
      throw fail(`${part}.class_path is ${show(node.class_path)}, expected "${classPath}"`);
    args[part] = section(node.init_args, `${part}.init_args`);
  }
  /** A field the weights decide: it must be present and equal. */
  const fromWeights = (part: string, key: string, value: number, tensor: string) => {
    const found = args[part]?.[key];
    if (found !== value)
      throw fail(`${part}.init_args.${key} is ${show(found)}, the weights have ${value} (${tensor})`);
  };
  /** A field fixed by the model: when present (or required), it must have this value. */
  const fixed = (part: string, key: string, value: unknown, required: boolean, why: string) => {
    const found = args[part]?.[key];
    if ((found !== undefined || required) && JSON.stringify(found) !== JSON.stringify(value))
      throw fail(`${part}.init_args.${key} is ${show(found)}, expected ${JSON.stringify(value)} (${why})`);
  };
  const embed = `backbone.embed.weight [${config.dim}, ${config.inputChannels}, ${KERNEL}]`;
  fromWeights("backbone", "input_channels", config.inputChannels, embed);
  fromWeights("backbone", "dim", config.dim, embed);
  fromWeights("backbone", "intermediate_dim", config.intermediateDim, "backbone.convnext.0.pwconv1.weight");
  fromWeights("backbone", "num_layers", config.layers, "backbone.convnext.N blocks");
  fromWeights("backbone", "adanorm_num_embeddings", config.adanormEmbeddings, "backbone.norm.scale.weight");
  fromWeights("head", "dim", config.dim, `head.out.weight [${config.nFft + 2}, ${config.dim}]`);
  fromWeights("head", "n_fft", config.nFft, `head.istft.window [${config.nFft}]`);
  fixed("head", "hop_length", HOP_LENGTH, true, "EnCodec's 75 Hz frames at 24 kHz");
  fixed("head", "padding", "same", false, 'the ISTFT head of this model uses "same" padding');
  fixed("feature_extractor", "encodec_model", "encodec_24khz", false, "EnCodec 24 kHz");
  const bandwidths = args.feature_extractor?.bandwidths;
  if (bandwidths !== undefined && JSON.stringify(bandwidths) !== JSON.stringify(BANDWIDTHS))
    throw fail(
      `feature_extractor.init_args.bandwidths is ${show(bandwidths)}, expected [1.5, 3.0, 6.0, 12.0] (bandwidth_id 0…3)`,
    );
}

/**
 * Read Vocos weights: a `torch.save` zip (`pytorch_model.bin`, `.pt`, `.pth`; recognised by its content) or a
 * `.safetensors` file. The configuration is inferred from the shapes, cross-checked with `options.config` or the
 * `config.yaml` beside the file, and every tensor is checked; anything else is a `CodecFormatError` naming the file
 * and the tensor or field.
 */
export async function readVocosWeights(path: string, options: ReadVocosOptions = {}): Promise<VocosWeights> {
  const tensors = await loadStateDict(path);
  const config = inferConfig(tensors, path);
  const checked = checkTensors(tensors, config, path);
  const configPath = options.config ?? join(dirname(path), "config.yaml");
  if (options.config !== undefined || existsSync(configPath)) await checkConfigFile(configPath, config);
  return { path, config, tensors: checked };
}

function resolveRandomConfig(partial: Partial<VocosConfig> = {}): VocosConfig {
  const config = { ...TINY_VOCOS_CONFIG, ...partial };
  for (const key of ["inputChannels", "dim", "intermediateDim", "layers", "adanormEmbeddings", "codebooks"] as const)
    expectInteger(config[key], `config.${key}`, 1, 65536);
  const fixed = { nFft: 4 * HOP_LENGTH, hopLength: HOP_LENGTH, bins: CODEBOOK_SIZE } as const;
  for (const [key, value] of Object.entries(fixed)) {
    if (config[key as keyof typeof fixed] !== value)
      throw invalid(`${value}`, `config.${key}`, config[key as keyof typeof fixed]);
  }
  return config;
}

/**
 * A seeded random Vocos (deterministic on every platform): fan-in scaled weights, AdaLayerNorm scales 1 ± 0.1 and
 * shifts ± 0.1 (so `bandwidth_id` matters), layer scale 0.5 (every block matters), head outputs whose
 * log-magnitudes lie mostly in [-6, 2] with a few above ln 100 (the clip), the periodic Hann window.
 */
export function randomVocos(options: RandomVocosOptions = {}): { config: VocosConfig; tensors: VocosTensor[] } {
  const config = resolveRandomConfig(options.config);
  const random = seededRandom(options.seed ?? 1234);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const magnitudes = config.nFft / 2 + 1;
  const tensors: VocosTensor[] = [];
  for (const [name, shape] of vocosTensorShapes(config)) {
    const count = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length > 1 ? shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    const row = (i: number) => Math.floor(i / fanIn);
    let value: (i: number) => number;
    if (name === "head.istft.window") value = (n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / config.nFft);
    else if (name === "feature_extractor.codebook_weights") value = () => 0.5 * normal();
    else if (name.endsWith(".gamma")) value = () => 0.5;
    else if (name.endsWith("norm.scale.weight") || name === "backbone.final_layer_norm.weight")
      value = () => 1 + 0.1 * normal();
    else if (name === "head.out.weight")
      // log-magnitude rows ~ N(0, 1.5²) over unit-variance features, phase rows ~ N(0, 3²)
      value = (i) => ((row(i) < magnitudes ? 1.5 : 3) / Math.sqrt(fanIn)) * normal();
    else if (name === "head.out.bias")
      value = (i) => (i < magnitudes ? -1 + 0.2 * normal() : Math.PI * (2 * random() - 1));
    else if (shape.length === 1 || name.endsWith("norm.shift.weight")) value = () => 0.1 * normal();
    else value = () => normal() / Math.sqrt(fanIn);
    tensors.push({ name, shape, data: Float32Array.from({ length: count }, (_, i) => value(i)) });
  }
  return { config, tensors };
}

/** `config.yaml` in the layout of the published one (`Vocos.from_hparams`). */
export function vocosConfigYaml(config: VocosConfig): string {
  return `feature_extractor:
  class_path: vocos.feature_extractors.EncodecFeatures
  init_args:
    encodec_model: encodec_24khz
    bandwidths: [1.5, 3.0, 6.0, 12.0]
    train_codebooks: false

backbone:
  class_path: vocos.models.VocosBackbone
  init_args:
    input_channels: ${config.inputChannels}
    dim: ${config.dim}
    intermediate_dim: ${config.intermediateDim}
    num_layers: ${config.layers}
    adanorm_num_embeddings: ${config.adanormEmbeddings}  # len(bandwidths)

head:
  class_path: vocos.heads.ISTFTHead
  init_args:
    dim: ${config.dim}
    n_fft: ${config.nFft}
    hop_length: ${config.hopLength}
    padding: same
`;
}

/**
 * Write a seeded random Vocos to `path` as a PyTorch state dict (`torch.load` reads it; so does
 * `readVocosWeights`), with a `config.yaml` for the same configuration beside it. Both written atomically.
 */
export async function writeRandomVocos(path: string, options: RandomVocosOptions = {}): Promise<void> {
  const { config, tensors } = randomVocos(options);
  await writeTorchStateDict(path, tensors);
  const configPath = join(dirname(path), "config.yaml");
  try {
    await writeFileAtomic(configPath, vocosConfigYaml(config));
  } catch (error) {
    throw fileWriteError(configPath, error);
  }
}
