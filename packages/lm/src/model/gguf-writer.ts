/**
 * Writing GGUF v3 files: what the tiny and full-shape test models (and the pipeline's `tiny` bundle) are made of.
 * Metadata values: strings, u32, f32, booleans and string arrays; tensors: raw bytes already in their ggml type.
 * Layout: magic "GGUF", version 3, tensor count, kv count (u64), the kvs, the tensor infos (name, dims innermost
 * first, type, offset), padding to `general.alignment` (32), then the tensor data, each aligned.
 */
import { closeSync, openSync, writeSync } from "node:fs";

export type GgufValue = string | number | boolean | string[] | { f32: number } | { u32: number } | { i32: number };

export interface GgufTensor {
  name: string;
  /** ggml dims, innermost first (ne0, ne1, …). */
  ne: number[];
  /** ggml type id (0 F32, 1 F16, 8 Q8_0, 12 Q4_K, …). */
  type: number;
  data: Uint8Array;
}

const ALIGNMENT = 32;
const GGUF_TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;

class Buffers {
  parts: Uint8Array[] = [];
  length = 0;

  push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  u32(value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value, true);
    this.push(b);
  }

  i32(value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, value, true);
    this.push(b);
  }

  u64(value: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(value), true);
    this.push(b);
  }

  f32(value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
  }

  string(value: string): void {
    const bytes = new TextEncoder().encode(value);
    this.u64(bytes.length);
    this.push(bytes);
  }
}

function writeValue(out: Buffers, value: GgufValue): void {
  if (typeof value === "string") {
    out.u32(GGUF_TYPE.string);
    out.string(value);
  } else if (typeof value === "boolean") {
    out.u32(GGUF_TYPE.bool);
    out.push(new Uint8Array([value ? 1 : 0]));
  } else if (Array.isArray(value)) {
    out.u32(GGUF_TYPE.array);
    out.u32(GGUF_TYPE.string);
    out.u64(value.length);
    for (const item of value) out.string(item);
  } else if (typeof value === "number") {
    out.u32(GGUF_TYPE.u32);
    out.u32(value);
  } else if ("f32" in value) {
    out.u32(GGUF_TYPE.f32);
    out.f32(value.f32);
  } else if ("i32" in value) {
    out.u32(GGUF_TYPE.i32);
    out.i32(value.i32);
  } else {
    out.u32(GGUF_TYPE.u32);
    out.u32(value.u32);
  }
}

/** Write a GGUF file (streamed: tensors are written one by one, so full-size models need no second copy). */
export function writeGguf(path: string, metadata: Record<string, GgufValue>, tensors: readonly GgufTensor[]): void {
  const head = new Buffers();
  head.push(new TextEncoder().encode("GGUF"));
  head.u32(3);
  head.u64(tensors.length);
  head.u64(Object.keys(metadata).length + 1);
  head.string("general.alignment");
  writeValue(head, ALIGNMENT);
  for (const [key, value] of Object.entries(metadata)) {
    head.string(key);
    writeValue(head, value);
  }
  let offset = 0;
  for (const tensor of tensors) {
    head.string(tensor.name);
    head.u32(tensor.ne.length);
    for (const dim of tensor.ne) head.u64(dim);
    head.u32(tensor.type);
    head.u64(offset);
    offset += Math.ceil(tensor.data.length / ALIGNMENT) * ALIGNMENT;
  }
  const pad = (n: number) => new Uint8Array((ALIGNMENT - (n % ALIGNMENT)) % ALIGNMENT);
  const fd = openSync(path, "w");
  try {
    for (const part of head.parts) writeSync(fd, part);
    writeSync(fd, pad(head.length));
    for (const tensor of tensors) {
      writeSync(fd, tensor.data);
      writeSync(fd, pad(tensor.data.length));
    }
  } finally {
    closeSync(fd);
  }
}
