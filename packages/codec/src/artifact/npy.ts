/**
 * NumPy .npy (format 1.0/2.0/3.0), the subset codes and audio need: little-endian numeric dtypes, C order. Reading
 * validates the magic, the header and that the data matches the shape; writing produces what numpy.load reads.
 */
import { CodesFormatError } from "../errors.js";

export type NpyDtype = "<i2" | "<u2" | "<i4" | "<i8" | "<f4" | "<f8" | "|i1" | "|u1";

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** The values as numbers (int64 values must be safe integers). */
  data: Int16Array | Uint16Array | Int32Array | Float32Array | Float64Array | Int8Array | Uint8Array | number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const SIZES: Record<NpyDtype, number> = {
  "<i2": 2,
  "<u2": 2,
  "<i4": 4,
  "<i8": 8,
  "<f4": 4,
  "<f8": 8,
  "|i1": 1,
  "|u1": 1,
};

export interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Offset of the data. */
  dataOffset: number;
}

/** The header of a .npy file (any dtype, including object arrays). */
export function parseNpyHeader(bytes: Uint8Array, source: string): NpyHeader {
  if (bytes.length < 10 || !MAGIC.every((byte, i) => bytes[i] === byte)) {
    throw new CodesFormatError(`${source} is not a NumPy .npy file (no \\x93NUMPY magic)`);
  }
  const major = bytes[6] as number;
  if (major < 1 || major > 3) throw new CodesFormatError(`${source}: unsupported .npy format version ${major}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLength > bytes.length) throw new CodesFormatError(`${source} is truncated inside its .npy header`);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new CodesFormatError(`${source}: malformed .npy header ${JSON.stringify(header.trim())}`);
  }
  const shape = shapeText
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const value = Number(part.replace(/L$/, ""));
      if (!Number.isSafeInteger(value) || value < 0)
        throw new CodesFormatError(`${source}: malformed .npy shape (${shapeText})`);
      return value;
    });
  return { descr, fortranOrder: fortran === "True", shape, dataOffset: start + headerLength };
}

export function parseNpy(bytes: Uint8Array, source: string): NpyArray {
  const header = parseNpyHeader(bytes, source);
  const dtype =
    header.descr === "<i2" || header.descr === "<u2" || header.descr in SIZES ? (header.descr as NpyDtype) : undefined;
  if (!dtype) {
    throw new CodesFormatError(
      `${source}: unsupported .npy dtype ${JSON.stringify(header.descr)} (expected little-endian integers or floats)`,
    );
  }
  if (header.fortranOrder) throw new CodesFormatError(`${source}: Fortran-ordered .npy arrays are not supported`);
  const count = header.shape.reduce((a, b) => a * b, 1);
  const size = SIZES[dtype];
  const available = bytes.length - header.dataOffset;
  if (available < count * size) {
    throw new CodesFormatError(
      `${source} is truncated: shape (${header.shape.join(", ")}) needs ${count * size} bytes of data, ${available} present`,
    );
  }
  const slice = new Uint8Array(bytes.subarray(header.dataOffset, header.dataOffset + count * size)); // an aligned copy
  const buffer = slice.buffer;
  let data: NpyArray["data"];
  switch (dtype) {
    case "<i2":
      data = new Int16Array(buffer);
      break;
    case "<u2":
      data = new Uint16Array(buffer);
      break;
    case "<i4":
      data = new Int32Array(buffer);
      break;
    case "<f4":
      data = new Float32Array(buffer);
      break;
    case "<f8":
      data = new Float64Array(buffer);
      break;
    case "|i1":
      data = new Int8Array(buffer);
      break;
    case "|u1":
      data = new Uint8Array(buffer);
      break;
    case "<i8": {
      const wide = new BigInt64Array(buffer);
      data = Array.from(wide, (value) => {
        const number = Number(value);
        if (!Number.isSafeInteger(number))
          throw new CodesFormatError(`${source}: int64 value ${value} is out of range`);
        return number;
      });
      break;
    }
  }
  return { dtype, shape: header.shape, data };
}

/** .npy bytes (format 1.0, C order) for an int16 array of the given shape. */
export function encodeNpyInt16(data: Int16Array, shape: readonly number[]): Uint8Array {
  return encodeNpy(data, shape);
}

/** .npy bytes (format 1.0, C order) for an int16, int32 or float32 array of the given shape. */
export function encodeNpy(data: Int16Array | Int32Array | Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new Error(`encodeNpy: shape (${shape.join(", ")}) does not hold ${data.length} values`);
  const descr = data instanceof Int16Array ? "<i2" : data instanceof Int32Array ? "<i4" : "<f4";
  const shapeText = shape.length === 1 ? `${shape[0]},` : shape.join(", ");
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shapeText}), }`;
  // Pad with spaces so that magic + length + header + newline is a multiple of 64 bytes.
  const unpadded = 10 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64);
  header += "\n";
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
