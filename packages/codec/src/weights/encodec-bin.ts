/**
 * encodec.cpp's ggml weight file (as encodec.cpp's `convert.py` `parse_codec_model` writes it and
 * `encodec_load_model_weights` reads it), read and written in TypeScript: the converter writes it from Hugging Face
 * checkpoints, and tests use it to make tiny models and to check the native loader. The native core reads the same
 * files for inference (with its own, equally strict, validation).
 *
 * Layout: int32 magic 0x67676d6c; 9 int32 header fields; then records until EOF, each
 * n_dims, name_len, ftype (0 f32, 1 f16), dims (innermost first), name bytes, data (row-major in PyTorch order).
 */
import writeFileAtomic from "write-file-atomic";
import { CodecFormatError, fileWriteError } from "../errors.js";

export const ENCODEC_BIN_MAGIC = 0x67676d6c;

export interface EncodecBinHeader {
  inChannels: number;
  hiddenDim: number;
  nFilters: number;
  kernelSize: number;
  residualKernelSize: number;
  bins: number;
  bandwidth: number;
  sampleRate: number;
  ftype: number;
}

export interface EncodecBinTensor {
  /** PyTorch shape (outermost first). Scalars are []. */
  shape: number[];
  /** Stored as f16 (1) or f32 (0). */
  ftype: 0 | 1;
  /** Values (as f32, whatever the storage). */
  data: Float32Array;
}

export interface EncodecBin {
  header: EncodecBinHeader;
  tensors: Map<string, EncodecBinTensor>;
}

const HEADER_FIELDS: (keyof EncodecBinHeader)[] = [
  "inChannels",
  "hiddenDim",
  "nFilters",
  "kernelSize",
  "residualKernelSize",
  "bins",
  "bandwidth",
  "sampleRate",
  "ftype",
];

// IEEE half ↔ single, exact (round to nearest even when narrowing).
const scratch = new DataView(new ArrayBuffer(4));

export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

export function floatToHalf(value: number): number {
  scratch.setFloat32(0, value);
  const x = scratch.getUint32(0);
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    if (rest > midpoint || (rest === midpoint && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  e = half >> 10;
  return sign | half;
}

export function parseEncodecBin(bytes: Uint8Array, source = "encodec weights"): EncodecBin {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const int = (what: string) => {
    if (pos + 4 > bytes.length) throw new CodecFormatError(`${source} is truncated (${what} at offset ${pos})`);
    const value = view.getInt32(pos, true);
    pos += 4;
    return value;
  };
  const magic = int("the magic number") >>> 0;
  if (magic !== ENCODEC_BIN_MAGIC) {
    throw new CodecFormatError(
      `${source} is not an EnCodec ggml weight file (magic 0x${magic.toString(16).padStart(8, "0")})`,
    );
  }
  const header = {} as EncodecBinHeader;
  for (const field of HEADER_FIELDS) header[field] = int("the header");
  const tensors = new Map<string, EncodecBinTensor>();
  while (pos < bytes.length) {
    const dims = int("a tensor record");
    const nameLength = int("a tensor record");
    const ftype = int("a tensor record");
    if (dims < 0 || dims > 4 || nameLength < 1 || nameLength > 512 || (ftype !== 0 && ftype !== 1)) {
      throw new CodecFormatError(`${source}: malformed tensor record at offset ${pos - 12}`);
    }
    const ne: number[] = [];
    for (let i = 0; i < dims; i++) ne.push(int("tensor dimensions"));
    if (pos + nameLength > bytes.length)
      throw new CodecFormatError(`${source} is truncated (a tensor name at offset ${pos})`);
    const name = new TextDecoder().decode(bytes.subarray(pos, pos + nameLength));
    pos += nameLength;
    const count = ne.reduce((a, b) => a * b, 1);
    const size = count * (ftype === 1 ? 2 : 4);
    if (pos + size > bytes.length) throw new CodecFormatError(`${source} is truncated (the data of tensor '${name}')`);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      data[i] = ftype === 1 ? halfToFloat(view.getUint16(pos + 2 * i, true)) : view.getFloat32(pos + 4 * i, true);
    }
    pos += size;
    tensors.set(name, { shape: [...ne].reverse(), ftype: ftype as 0 | 1, data });
  }
  return { header, tensors };
}

/** Bytes of an encodec.cpp weight file. Tensors are written in the map's order, each in its own ftype. */
export function encodeEncodecBin(bin: EncodecBin): Uint8Array {
  const encoder = new TextEncoder();
  let size = 4 + 4 * HEADER_FIELDS.length;
  for (const [name, tensor] of bin.tensors) {
    size +=
      12 + 4 * tensor.shape.length + encoder.encode(name).length + tensor.data.length * (tensor.ftype === 1 ? 2 : 4);
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let pos = 0;
  const int = (value: number) => {
    view.setInt32(pos, value, true);
    pos += 4;
  };
  int(ENCODEC_BIN_MAGIC | 0);
  for (const field of HEADER_FIELDS) int(bin.header[field]);
  for (const [name, tensor] of bin.tensors) {
    const nameBytes = encoder.encode(name);
    int(tensor.shape.length);
    int(nameBytes.length);
    int(tensor.ftype);
    for (const dim of [...tensor.shape].reverse()) int(dim);
    out.set(nameBytes, pos);
    pos += nameBytes.length;
    for (const value of tensor.data) {
      if (tensor.ftype === 1) {
        view.setUint16(pos, floatToHalf(value), true);
        pos += 2;
      } else {
        view.setFloat32(pos, value, true);
        pos += 4;
      }
    }
  }
  return out;
}

/** Write an encodec.cpp weight file atomically (never half-written). */
export async function writeEncodecBin(path: string, bin: EncodecBin): Promise<number> {
  const bytes = encodeEncodecBin(bin);
  try {
    await writeFileAtomic(path, Buffer.from(bytes));
  } catch (error) {
    throw fileWriteError(path, error);
  }
  return bytes.length;
}
