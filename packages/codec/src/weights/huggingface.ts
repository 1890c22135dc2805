/**
 * Hugging Face `facebook/encodec_24khz` (config.json + model.safetensors) → encodec.cpp's weight layout (encodec.cpp
 * `convert.py` `parse_codec_model`): keys renamed to the official names (transformers'
 * `convert_encodec_checkpoint_to_pytorch.py` `MAPPING_*`, inverted), weight norm folded (W = g · v / ‖v‖ per index of
 * axis 0, in float64, rounded once to f32), training-only buffers dropped, optionally f16 by encodec.cpp's rule.
 * Accepts the weight-norm spellings weight_g/weight_v and parametrizations.weight.original0/original1, and state dicts
 * already using the official names.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { statPathSync } from "@vall-e/core";
import { CodecFormatError, fileReadError } from "../errors.js";
import { type EncodecBin, type EncodecBinHeader, type EncodecBinTensor, halfToFloat } from "./encodec-bin.js";
import { ENCODEC_24KHZ_HEADER, encodecTensorShapes, storedAsHalf } from "./layout.js";

interface SafetensorsEntry {
  dtype: string;
  shape: number[];
  data: Float64Array;
}

export interface SafetensorsOptions {
  /**
   * Tensors of other dtypes (F64, integers): left out ("skip", the default: buffers such as `inited` are not
   * weights) or refused ("refuse").
   */
  otherDtypes?: "skip" | "refuse";
}

/** Parse safetensors bytes (F32, F16, BF16 tensors; others are skipped, or refused with `otherDtypes: "refuse"`). */
export function parseSafetensors(
  bytes: Uint8Array,
  source: string,
  options: SafetensorsOptions = {},
): Map<string, SafetensorsEntry> {
  if (bytes.length < 8) throw new CodecFormatError(`${source} is not a safetensors file (too short)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength < 2 || 8 + headerLength > bytes.length || headerLength > 100_000_000) {
    throw new CodecFormatError(`${source} is not a safetensors file (header length ${headerLength})`);
  }
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw new CodecFormatError(`${source} has a malformed safetensors header (${(error as Error).message})`, {
      cause: error,
    });
  }
  const base = 8 + headerLength;
  const out = new Map<string, SafetensorsEntry>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const [begin, end] = entry.data_offsets ?? [];
    const count = (entry.shape ?? []).reduce((a: number, b: number) => a * b, 1);
    const size = { F32: 4, F16: 2, BF16: 2 }[entry.dtype];
    if (size === undefined) {
      if (options.otherDtypes !== "refuse") continue; // integer buffers (e.g. `inited`) are not weights
      throw new CodecFormatError(`${source}: tensor '${name}' has dtype ${entry.dtype}, expected F32, F16 or BF16`);
    }
    if (begin === undefined || end === undefined || end - begin !== count * size || base + end > bytes.length) {
      throw new CodecFormatError(`${source}: tensor '${name}' has inconsistent data offsets`);
    }
    const data = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const at = base + begin + i * size;
      if (entry.dtype === "F32") data[i] = view.getFloat32(at, true);
      else if (entry.dtype === "F16") data[i] = halfToFloat(view.getUint16(at, true));
      else data[i] = new Float32Array(new Uint32Array([view.getUint16(at, true) << 16]).buffer)[0] as number;
    }
    out.set(name, { dtype: entry.dtype, shape: entry.shape, data });
  }
  return out;
}

/** The official name of a Hugging Face EnCodec key (or the key itself when it already is one). */
export function officialName(key: string): string {
  return key
    .replace(/^quantizer\.layers\.(\d+)\.codebook\./, "quantizer.vq.layers.$1._codebook.")
    .replace(/^decoder\.layers\.(3|6|9|12)\.conv\./, "decoder.model.$1.convtr.convtr.")
    .replace(/^(encoder|decoder)\.layers\.(\d+)\.(block\.[13]|shortcut)\.conv\./, "$1.model.$2.$3.conv.conv.")
    .replace(/^(encoder|decoder)\.layers\.(\d+)\.lstm\./, "$1.model.$2.lstm.")
    .replace(/^(encoder|decoder)\.layers\.(\d+)\.conv\./, "$1.model.$2.conv.conv.")
    .replace(/\.parametrizations\.weight\.original0$/, ".weight_g")
    .replace(/\.parametrizations\.weight\.original1$/, ".weight_v");
}

function headerFromConfig(config: Record<string, unknown> | undefined, source: string): EncodecBinHeader {
  if (!config) return { ...ENCODEC_24KHZ_HEADER };
  const expect = (key: string, wanted: unknown) => {
    if (config[key] !== undefined && JSON.stringify(config[key]) !== JSON.stringify(wanted)) {
      throw new CodecFormatError(
        `${source}: ${key} is ${JSON.stringify(config[key])}, expected ${JSON.stringify(wanted)} (EnCodec 24 kHz)`,
      );
    }
  };
  expect("sampling_rate", 24000);
  expect("audio_channels", 1);
  expect("upsampling_ratios", [8, 5, 4, 2]);
  expect("use_causal_conv", true);
  expect("norm_type", "weight_norm");
  expect("num_lstm_layers", 2);
  expect("num_residual_layers", 1);
  expect("compress", 2);
  expect("normalize", false);
  if (config.last_kernel_size !== undefined) expect("last_kernel_size", config.kernel_size ?? 7);
  const int = (key: string, fallback: number) => {
    const value = config[key] ?? fallback;
    if (!Number.isInteger(value))
      throw new CodecFormatError(`${source}: ${key} must be an integer, got ${JSON.stringify(value)}`);
    return value as number;
  };
  return {
    ...ENCODEC_24KHZ_HEADER,
    hiddenDim: int("hidden_size", 128),
    nFilters: int("num_filters", 32),
    kernelSize: int("kernel_size", 7),
    residualKernelSize: int("residual_kernel_size", 3),
    bins: int("codebook_size", 1024),
  };
}

export interface ConvertOptions {
  /** Store conv and LSTM weights as f16 (encodec.cpp's --use-f16 rule; the published encodec.bin). */
  half?: boolean;
}

/**
 * Convert a Hugging Face EnCodec checkpoint: `input` is its directory (config.json + model.safetensors) or the
 * .safetensors file (a config.json beside it is used when present).
 */
export async function convertHuggingFaceEncodec(input: string, options: ConvertOptions = {}): Promise<EncodecBin> {
  const isDirectory = statPathSync(input)?.isDirectory() === true;
  const weightsPath = isDirectory ? join(input, "model.safetensors") : input;
  const configPath = join(isDirectory ? input : dirname(input), "config.json");
  let bytes: Buffer;
  try {
    bytes = await readFile(weightsPath);
  } catch (error) {
    throw fileReadError("EnCodec checkpoint", weightsPath, error);
  }
  let config: Record<string, unknown> | undefined;
  if (existsSync(configPath)) {
    try {
      config = JSON.parse(await readFile(configPath, "utf8"));
    } catch (error) {
      throw new CodecFormatError(`${configPath}: not JSON (${(error as Error).message})`, { cause: error });
    }
  }
  const header = { ...headerFromConfig(config, configPath), ftype: options.half ? 1 : 0 };
  const entries = new Map<string, SafetensorsEntry>();
  for (const [key, entry] of parseSafetensors(bytes, weightsPath)) entries.set(officialName(key), entry);

  const tensors = new Map<string, EncodecBinTensor>();
  for (const [name, shape] of encodecTensorShapes(header)) {
    const count = shape.reduce((a, b) => a * b, 1);
    let values: Float64Array;
    const direct = entries.get(name);
    if (name.endsWith(".weight") && !name.includes(".lstm.") && !direct) {
      // Weight norm: one norm per index of axis 0 (output channels of a conv, input channels of a transposed conv).
      const prefix = name.slice(0, -".weight".length);
      const g = entries.get(`${prefix}.weight_g`);
      const v = entries.get(`${prefix}.weight_v`);
      if (!g || !v)
        throw new CodecFormatError(`${weightsPath}: tensor '${prefix}.weight_v' (or '${prefix}.weight') is missing`);
      if (v.data.length !== count || JSON.stringify(v.shape) !== JSON.stringify(shape)) {
        throw new CodecFormatError(
          `${weightsPath}: tensor '${prefix}.weight_v' has shape [${v.shape}], expected [${shape}]`,
        );
      }
      const rows = shape[0] as number;
      if (g.data.length !== rows)
        throw new CodecFormatError(
          `${weightsPath}: tensor '${prefix}.weight_g' has ${g.data.length} values, expected ${rows}`,
        );
      const rowSize = count / rows;
      values = new Float64Array(count);
      for (let r = 0; r < rows; r++) {
        let norm = 0;
        for (let i = 0; i < rowSize; i++) norm += (v.data[r * rowSize + i] as number) ** 2;
        const scale = (g.data[r] as number) / Math.sqrt(norm);
        for (let i = 0; i < rowSize; i++) values[r * rowSize + i] = (v.data[r * rowSize + i] as number) * scale;
      }
    } else {
      if (!direct) throw new CodecFormatError(`${weightsPath}: tensor '${name}' is missing`);
      if (
        direct.data.length !== count ||
        JSON.stringify(direct.shape.filter((d) => d !== 1)) !== JSON.stringify(shape.filter((d) => d !== 1))
      ) {
        throw new CodecFormatError(`${weightsPath}: tensor '${name}' has shape [${direct.shape}], expected [${shape}]`);
      }
      values = direct.data;
    }
    tensors.set(name, { shape, ftype: options.half && storedAsHalf(name) ? 1 : 0, data: Float32Array.from(values) });
  }
  return { header, tensors };
}
