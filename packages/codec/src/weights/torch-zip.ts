/**
 * PyTorch state dicts in `torch.save`'s zip format (torch ≥ 1.6; `torch/serialization.py` `_save` / `_load`,
 * `caffe2/serialize/inline_container.cc`): `<prefix>/data.pkl` is a pickle of an OrderedDict whose tensors are
 * `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)` calls, each storage a persistent id
 * `('storage', <storage class>, key, location, numel)` whose bytes are the entry `<prefix>/data/<key>`;
 * `<prefix>/version` and `<prefix>/byteorder` (absent: little-endian) beside them. Only float tensors (f32, f16, bf16)
 * stored contiguously are read, converted to f32. The pickle may name nothing but the OrderedDict, the tensor and
 * parameter builders and the storage classes: it is data, never code.
 */
import { expectFloat32Array, invalid, readRegularFile } from "@vall-e/core";
import { type UnzipFileInfo, unzipSync, zipSync } from "fflate";
import writeFileAtomic from "write-file-atomic";
import { PickleGlobal, unpickle } from "../artifact/pickle.js";
import { CodecFormatError, fileWriteError } from "../errors.js";
import { halfToFloat } from "./encodec-bin.js";

export type TorchDtype = "F32" | "F16" | "BF16";

/** A tensor of a state dict, in PyTorch's shape order, converted to f32. */
export interface TorchTensor {
  dtype: TorchDtype;
  shape: number[];
  data: Float32Array;
}

/** A tensor to write (always stored as f32). */
export interface TorchTensorEntry {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Storage classes a checkpoint may name; only the float ones are read, the others are refused per tensor. */
const STORAGE_TYPES: Record<string, { dtype: string; bytes: number; float: boolean }> = {
  "torch.FloatStorage": { dtype: "F32", bytes: 4, float: true },
  "torch.HalfStorage": { dtype: "F16", bytes: 2, float: true },
  "torch.BFloat16Storage": { dtype: "BF16", bytes: 2, float: true },
  "torch.DoubleStorage": { dtype: "F64", bytes: 8, float: false },
  "torch.LongStorage": { dtype: "I64", bytes: 8, float: false },
  "torch.IntStorage": { dtype: "I32", bytes: 4, float: false },
  "torch.ShortStorage": { dtype: "I16", bytes: 2, float: false },
  "torch.CharStorage": { dtype: "I8", bytes: 1, float: false },
  "torch.ByteStorage": { dtype: "U8", bytes: 1, float: false },
  "torch.BoolStorage": { dtype: "BOOL", bytes: 1, float: false },
};

class StorageRef {
  constructor(
    readonly type: string,
    readonly key: string,
    readonly numel: number,
  ) {}
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const EMPTY_ZIP_MAGIC = [0x50, 0x4b, 0x05, 0x06];

/** Whether `bytes` start like a zip archive (what `torch.save` writes since 1.6). */
export function isZip(bytes: Uint8Array): boolean {
  return [ZIP_MAGIC, EMPTY_ZIP_MAGIC].some((magic) => magic.every((byte, i) => bytes[i] === byte));
}

const isIndex = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

function unpickleStateDict(bytes: Uint8Array, source: string): Map<unknown, unknown> {
  const fail = (what: string) => new CodecFormatError(`${source}: ${what}`);
  const orderedDict = (args: unknown[]) => {
    const map = new Map<unknown, unknown>();
    const items = args[0];
    if (args.length > 1 || (items !== undefined && !Array.isArray(items)))
      throw fail("malformed OrderedDict in data.pkl");
    for (const pair of (items as unknown[] | undefined) ?? []) {
      if (!Array.isArray(pair) || pair.length !== 2) throw fail("malformed OrderedDict in data.pkl");
      map.set(pair[0], pair[1]);
    }
    return map;
  };
  const rebuildTensor = (args: unknown[]) => {
    // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    const [storage, offset, size, stride] = args;
    if (
      args.length < 4 ||
      !(storage instanceof StorageRef) ||
      !isIndex(offset) ||
      !Array.isArray(size) ||
      !size.every(isIndex) ||
      !Array.isArray(stride) ||
      !stride.every(isIndex) ||
      stride.length !== size.length
    ) {
      throw fail("malformed tensor in data.pkl (_rebuild_tensor_v2 arguments)");
    }
    return new TensorRef(storage, offset, size as number[], stride as number[]);
  };
  const rebuildParameter = (args: unknown[]) => {
    // (data, requires_grad, backward_hooks)
    if (!(args[0] instanceof TensorRef)) throw fail("malformed parameter in data.pkl (_rebuild_parameter arguments)");
    return args[0];
  };
  const globals = new Map<string, ((args: unknown[]) => unknown) | null>([
    ["collections.OrderedDict", orderedDict],
    ["torch._utils._rebuild_tensor_v2", rebuildTensor],
    ["torch._utils._rebuild_parameter", rebuildParameter],
  ]);
  for (const name of Object.keys(STORAGE_TYPES)) globals.set(name, null);
  const storages = new Map<string, StorageRef>();
  const root = unpickle(bytes, {
    globals,
    accepted: "only tensors in an OrderedDict are accepted",
    // An OrderedDict's attributes (a state dict's `_metadata`: module versions) say nothing about the tensors.
    build: (target) => {
      if (!(target instanceof Map)) throw fail("malformed pickle (BUILD on an unexpected object)");
    },
    persistentLoad: (pid) => {
      const [kind, type, key, , numel] = Array.isArray(pid) ? pid : [];
      if (
        !Array.isArray(pid) ||
        pid.length !== 5 ||
        kind !== "storage" ||
        !(type instanceof PickleGlobal) ||
        typeof key !== "string" ||
        !isIndex(numel)
      ) {
        throw fail("malformed persistent id in data.pkl (expected ('storage', class, key, location, numel))");
      }
      const known = storages.get(key);
      if (known && (known.type !== type.name || known.numel !== numel))
        throw fail(`storage '${key}' is described twice differently in data.pkl`);
      const storage = known ?? new StorageRef(type.name, key, numel);
      storages.set(key, storage);
      return storage;
    },
    error: fail,
  });
  if (!(root instanceof Map)) throw fail("data.pkl does not hold a state dict (an OrderedDict of tensors)");
  return root;
}

function storageValues(
  storage: StorageRef,
  bytes: Uint8Array,
  little: boolean,
  name: string,
  source: string,
): Float32Array {
  const type = STORAGE_TYPES[storage.type] as { dtype: TorchDtype; bytes: number };
  if (bytes.length !== storage.numel * type.bytes) {
    throw new CodecFormatError(
      `${source}: storage '${storage.key}' of tensor '${name}' holds ${bytes.length} bytes, expected ${storage.numel} × ${type.bytes} = ${storage.numel * type.bytes}`,
    );
  }
  if (type.dtype === "F32" && little && bytes.byteOffset % 4 === 0) {
    // The unzipped entry is a copy of its own: view it rather than copy it again.
    return new Float32Array(bytes.buffer, bytes.byteOffset, storage.numel);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(storage.numel);
  if (type.dtype === "F32") {
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, little);
  } else if (type.dtype === "F16") {
    for (let i = 0; i < out.length; i++) out[i] = halfToFloat(view.getUint16(2 * i, little));
  } else {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < out.length; i++) bits[i] = view.getUint16(2 * i, little) << 16;
  }
  return out;
}

/** Parse the bytes of a `torch.save` zip holding a state dict; `source` names the file in errors. */
export function parseTorchStateDict(bytes: Uint8Array, source: string): Map<string, TorchTensor> {
  const fail = (what: string, cause?: unknown) =>
    new CodecFormatError(`${source}: ${what}`, cause === undefined ? {} : { cause });
  if (!isZip(bytes)) {
    if (bytes[0] === 0x80) {
      throw fail(
        "a legacy (torch < 1.6 or _use_new_zipfile_serialization=False) PyTorch file, not the zip format; re-save it with torch.save(torch.load(path), path) in torch ≥ 1.6",
      );
    }
    const start = Array.from(bytes.subarray(0, 4), (byte) => byte.toString(16).padStart(2, "0")).join(" ");
    throw fail(`not a PyTorch checkpoint: not a zip archive (starts with ${start || "nothing: the file is empty"})`);
  }
  const entries = new Map<string, UnzipFileInfo>();
  let files: Record<string, Uint8Array>;
  let expanded = 0;
  try {
    files = unzipSync(bytes, {
      filter: (info) => {
        entries.set(info.name, info);
        expanded += info.originalSize;
        return expanded <= MAX_CHECKPOINT_BYTES; // nothing more is inflated once past the bound (a zip bomb)
      },
    });
  } catch (error) {
    throw fail(`truncated or damaged zip archive (${(error as Error).message})`, error);
  }
  if (expanded > MAX_CHECKPOINT_BYTES) {
    throw fail(`its entries expand to ${expanded} bytes, more than the ${MAX_CHECKPOINT_BYTES} a checkpoint may hold`);
  }
  for (const [name, info] of entries) {
    if (files[name]?.length !== info.originalSize) {
      throw fail(
        `truncated or damaged zip archive (entry '${name}' holds ${files[name]?.length ?? 0} of ${info.originalSize} bytes)`,
      );
    }
  }
  const pickles = [...entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length !== 1) {
    throw fail(
      pickles.length === 0
        ? "not a PyTorch checkpoint: the zip archive has no <archive>/data.pkl"
        : `the zip archive holds ${pickles.length} pickles (${pickles.join(", ")}), expected one <archive>/data.pkl`,
    );
  }
  const prefix = (pickles[0] as string).slice(0, -"data.pkl".length);
  const text = (name: string) => {
    const entry = files[prefix + name];
    return entry && new TextDecoder().decode(entry).trim();
  };
  const version = text("version") ?? text(".data/version");
  if (version === undefined) throw fail(`the zip archive has no ${prefix}version`);
  if (!/^\d+$/.test(version) || Number(version) < 1)
    throw fail(`${prefix}version is ${JSON.stringify(version)}, expected a positive integer`);
  const byteorder = text("byteorder") ?? "little";
  if (byteorder !== "little" && byteorder !== "big")
    throw fail(`${prefix}byteorder is ${JSON.stringify(byteorder)}, expected "little" or "big"`);

  const dict = unpickleStateDict(files[pickles[0] as string] as Uint8Array, source);
  const decoded = new Map<StorageRef, Float32Array>();
  const out = new Map<string, TorchTensor>();
  for (const [name, value] of dict) {
    if (typeof name !== "string") throw fail(`data.pkl has a key that is not a string (${String(name)})`);
    if (!(value instanceof TensorRef)) throw fail(`'${name}' in data.pkl is not a tensor`);
    const { storage, offset, shape, stride } = value;
    const type = STORAGE_TYPES[storage.type] as { dtype: string; float: boolean };
    if (!type.float) {
      throw fail(`tensor '${name}' has dtype ${type.dtype} (${storage.type}), expected F32, F16 or BF16`);
    }
    let expected = 1;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      const size = shape[axis] as number;
      if (size > 1 && stride[axis] !== expected) {
        throw fail(
          `tensor '${name}' is not contiguous (shape [${shape}], stride [${stride}]); save it after .contiguous()`,
        );
      }
      expected *= size;
    }
    if (offset + expected > storage.numel) {
      throw fail(
        `tensor '${name}' (offset ${offset}, ${expected} values) lies outside its storage '${storage.key}' of ${storage.numel} values`,
      );
    }
    let values = decoded.get(storage);
    if (!values) {
      const entry = files[`${prefix}data/${storage.key}`];
      if (!entry) throw fail(`the zip archive has no ${prefix}data/${storage.key} (storage of tensor '${name}')`);
      values = storageValues(storage, entry, byteorder === "little", name, source);
      decoded.set(storage, values);
    }
    const data = offset === 0 && expected === values.length ? values : values.slice(offset, offset + expected);
    out.set(name, { dtype: type.dtype as TorchDtype, shape: [...shape], data });
  }
  return out;
}

/** The most a checkpoint may hold, on disk and unpacked (Vocos' is 40 MB). */
export const MAX_CHECKPOINT_BYTES = 2 ** 31;

/** Read a `torch.save` zip holding a state dict (e.g. a Hugging Face `pytorch_model.bin`); only a regular file. */
export async function readTorchStateDict(path: string): Promise<Map<string, TorchTensor>> {
  return parseTorchStateDict(await readRegularFile(path, "PyTorch checkpoint", MAX_CHECKPOINT_BYTES), path);
}

/** Pickle protocol 2 writer for exactly what a state dict needs. */
class PickleWriter {
  private parts: number[] = [];
  private memo = new Map<string, number>();

  byte(...values: number[]): void {
    this.parts.push(...values);
  }
  /** GLOBAL, memoized: a second use is a BINGET. */
  global(module: string, name: string): void {
    const key = `${module}\n${name}\n`;
    const at = this.memo.get(key);
    if (at !== undefined) {
      this.get(at);
    } else {
      this.byte(0x63, ...new TextEncoder().encode(key));
      this.put(key);
    }
  }
  private get(at: number): void {
    if (at < 256) this.byte(0x68, at);
    else this.byte(0x6a, at & 0xff, (at >>> 8) & 0xff, (at >>> 16) & 0xff, at >>> 24);
  }
  private put(key: string): void {
    const at = this.memo.size;
    this.memo.set(key, at);
    if (at < 256) this.byte(0x71, at);
    else this.byte(0x72, at & 0xff, (at >>> 8) & 0xff, (at >>> 16) & 0xff, at >>> 24);
  }
  string(value: string): void {
    const utf8 = new TextEncoder().encode(value);
    this.byte(0x58, utf8.length & 0xff, (utf8.length >>> 8) & 0xff, (utf8.length >>> 16) & 0xff, utf8.length >>> 24);
    this.byte(...utf8);
  }
  int(value: number): void {
    if (value < 256) this.byte(0x4b, value);
    else if (value < 65536) this.byte(0x4d, value & 0xff, value >>> 8);
    else if (value < 2 ** 31) this.byte(0x4a, value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
    else {
      // LONG1: little-endian two's complement (positive, so a leading zero byte when the top bit is set)
      const bytes: number[] = [];
      let rest = BigInt(value);
      while (rest > 0n) {
        bytes.push(Number(rest & 0xffn));
        rest >>= 8n;
      }
      if (((bytes[bytes.length - 1] as number) & 0x80) !== 0) bytes.push(0);
      this.byte(0x8a, bytes.length, ...bytes);
    }
  }
  tuple(values: number[]): void {
    if (values.length === 0) {
      this.byte(0x29); // EMPTY_TUPLE
      return;
    }
    if (values.length > 3) this.byte(0x28); // MARK
    for (const value of values) this.int(value);
    this.byte(values.length > 3 ? 0x74 : ([0x85, 0x86, 0x87][values.length - 1] as number)); // TUPLE, TUPLE1…3
  }
  /** `collections.OrderedDict()` */
  orderedDict(): void {
    this.global("collections", "OrderedDict");
    this.byte(0x29, 0x52); // EMPTY_TUPLE, REDUCE
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** The pickle of `OrderedDict(name → _rebuild_tensor_v2(storage i, 0, shape, stride, False, OrderedDict()))`. */
function statePickle(tensors: TorchTensorEntry[]): Uint8Array {
  const w = new PickleWriter();
  w.byte(0x80, 2); // PROTO 2
  w.orderedDict();
  tensors.forEach((tensor, index) => {
    if (index % 1000 === 0) w.byte(0x28); // MARK (SETITEMS in batches of 1000, as pickle.py)
    w.string(tensor.name);
    w.global("torch._utils", "_rebuild_tensor_v2");
    w.byte(0x28); // MARK: the argument tuple
    w.byte(0x28); // MARK: the persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)
    w.string("storage");
    w.global("torch", "FloatStorage");
    w.string(String(index));
    w.string("cpu");
    w.int(tensor.data.length);
    w.byte(0x74, 0x51); // TUPLE, BINPERSID
    w.int(0);
    w.tuple(tensor.shape);
    const stride = tensor.shape.map((_, axis) => tensor.shape.slice(axis + 1).reduce((a, b) => a * b, 1));
    w.tuple(stride);
    w.byte(0x89); // NEWFALSE: requires_grad
    w.orderedDict(); // backward_hooks
    w.byte(0x74, 0x52); // TUPLE, REDUCE
    if (index % 1000 === 999 || index === tensors.length - 1) w.byte(0x75); // SETITEMS
  });
  w.byte(0x2e); // STOP
  return w.bytes();
}

/**
 * The bytes of a `torch.save(OrderedDict(...))` zip (what `torch.load` reads; entries stored, each tensor's data
 * 64-byte aligned as PyTorch's writer does).
 */
export function encodeTorchStateDict(tensors: TorchTensorEntry[], archiveName = "archive"): Uint8Array {
  if (!/^[A-Za-z0-9_.-]+$/.test(archiveName))
    throw invalid("a name of letters, digits, '_', '.' and '-'", "archiveName", archiveName);
  const names = new Set<string>();
  let total = 0;
  for (const tensor of tensors) {
    if (!tensor.shape.every(isIndex))
      throw invalid("a shape of non-negative integers", `tensor '${tensor.name}'`, tensor.shape);
    const count = tensor.shape.reduce((a, b) => a * b, 1);
    expectFloat32Array(tensor.data, `the data of tensor '${tensor.name}' [${tensor.shape}]`, count);
    if (names.has(tensor.name)) throw invalid("each tensor name once", "tensors", tensor.name);
    names.add(tensor.name);
    total += tensor.data.byteLength;
  }
  if (total >= 2 ** 32) throw invalid("less than 4 GiB of tensor data (no zip64)", "tensors", `${total} bytes`);
  const little = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const entries: [string, Uint8Array][] = [[`${archiveName}/data.pkl`, statePickle(tensors)]];
  entries.push([`${archiveName}/byteorder`, new TextEncoder().encode("little")]);
  tensors.forEach((tensor, index) => {
    let data = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
    if (!little) {
      data = new Uint8Array(tensor.data.length * 4);
      const view = new DataView(data.buffer);
      for (let i = 0; i < tensor.data.length; i++) view.setFloat32(4 * i, tensor.data[i] as number, true);
    }
    entries.push([`${archiveName}/data/${index}`, data]);
  });
  entries.push([`${archiveName}/version`, new TextEncoder().encode("3\n")]);

  // Pad each local header with an extra field (id 0x4246 "FB", as PyTorch) so that the data starts at a multiple
  // of 64 bytes: zipSync lays the entries out in order, each a 30-byte header, the name, the extra field, the data.
  const zippable: Record<string, [Uint8Array, { level: 0; mtime: Date; extra: Record<number, Uint8Array> }]> = {};
  let offset = 0;
  for (const [name, data] of entries) {
    const header = 30 + new TextEncoder().encode(name).length + 4;
    const pad = (64 - ((offset + header) % 64)) % 64;
    zippable[name] = [data, { level: 0, mtime: new Date(1980, 0, 1), extra: { 16966: new Uint8Array(pad) } }];
    offset += header + pad + data.length;
  }
  return zipSync(zippable);
}

/** Write tensors as a PyTorch state dict (`torch.load(path)` gives an OrderedDict of f32 tensors), atomically. */
export async function writeTorchStateDict(
  path: string,
  tensors: TorchTensorEntry[],
  archiveName = "archive",
): Promise<void> {
  const bytes = encodeTorchStateDict(tensors, archiveName);
  try {
    await writeFileAtomic(path, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw fileWriteError(path, error);
  }
}
