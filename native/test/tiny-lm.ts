/**
 * A tiny seeded random VALL-E decoder as a GGUF v3 file (the approach of @vall-e/lm's writeRandomModel, written here
 * so that the native package's tests need no other package): llama architecture, width 32, 2 layers, 4 heads over 2
 * KV heads, FFN 64, F32 matrices, per-head output biases (`vall_e.output_bias`). The vocabulary is small (the native
 * core reads its size from `token_embd.weight`; the VALL-E row layout is @vall-e/lm's business).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export const TINY_LM = { width: 32, layers: 2, heads: 4, kvHeads: 2, ffn: 64, vocab: 384, contextLength: 2048 };

const ALIGNMENT = 32;
type Value = string | { u32: number } | { f32: number };

/** Seeded standard normal values (xorshift32 + Box–Muller), as writeRandomModel draws them. */
function gaussianSource(seed: number): () => number {
  let state = seed >>> 0 || 1;
  const uniform = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** The file's bytes: header, metadata, tensor infos (dims innermost first, type 0 = F32), aligned tensor data. */
export function tinyLmBytes(seed = 11): Uint8Array {
  const { width, layers, heads, kvHeads, ffn, vocab } = TINY_LM;
  const random = gaussianSource(seed);
  const kvWidth = (width / heads) * kvHeads;
  const tensors: { name: string; ne: number[]; data: Float32Array }[] = [];
  const matrix = (name: string, rows: number, cols: number, scale: number) =>
    tensors.push({ name, ne: [cols, rows], data: Float32Array.from({ length: rows * cols }, () => random() * scale) });
  const vector = (name: string, length: number, base: number, scale: number) =>
    tensors.push({ name, ne: [length], data: Float32Array.from({ length }, () => base + scale * random()) });

  matrix("token_embd.weight", vocab, width, 1);
  for (let l = 0; l < layers; l++) {
    const b = `blk.${l}.`;
    vector(`${b}attn_norm.weight`, width, 1, 0.1);
    matrix(`${b}attn_q.weight`, width, width, 1 / Math.sqrt(width));
    matrix(`${b}attn_k.weight`, kvWidth, width, 1 / Math.sqrt(width));
    matrix(`${b}attn_v.weight`, kvWidth, width, 1 / Math.sqrt(width));
    matrix(`${b}attn_output.weight`, width, width, 1 / Math.sqrt(width));
    vector(`${b}ffn_norm.weight`, width, 1, 0.1);
    matrix(`${b}ffn_gate.weight`, ffn, width, 1 / Math.sqrt(width));
    matrix(`${b}ffn_up.weight`, ffn, width, 1 / Math.sqrt(width));
    matrix(`${b}ffn_down.weight`, width, ffn, 1 / Math.sqrt(ffn));
  }
  vector("output_norm.weight", width, 1, 0.1);
  matrix("output.weight", vocab, width, 1 / Math.sqrt(width));
  vector("vall_e.output_bias", vocab, 0, 1);

  const metadata: [string, Value][] = [
    ["general.alignment", { u32: ALIGNMENT }],
    ["general.architecture", "llama"],
    ["general.name", "vall-e native test"],
    ["llama.vocab_size", { u32: vocab }],
    ["llama.context_length", { u32: TINY_LM.contextLength }],
    ["llama.embedding_length", { u32: width }],
    ["llama.block_count", { u32: layers }],
    ["llama.feed_forward_length", { u32: ffn }],
    ["llama.attention.head_count", { u32: heads }],
    ["llama.attention.head_count_kv", { u32: kvHeads }],
    ["llama.rope.freq_base", { f32: 10000 }],
    ["llama.attention.layer_norm_rms_epsilon", { f32: 1e-6 }],
    ["llama.rope.dimension_count", { u32: width / heads }],
  ];

  const parts: Uint8Array[] = [];
  let length = 0;
  const push = (bytes: Uint8Array) => {
    parts.push(bytes);
    length += bytes.length;
  };
  const scalar = (size: number, write: (view: DataView) => void) => {
    const bytes = new Uint8Array(size);
    write(new DataView(bytes.buffer));
    push(bytes);
  };
  const u32 = (value: number) => scalar(4, (v) => v.setUint32(0, value, true));
  const u64 = (value: number) => scalar(8, (v) => v.setBigUint64(0, BigInt(value), true));
  const string = (value: string) => {
    const bytes = new TextEncoder().encode(value);
    u64(bytes.length);
    push(bytes);
  };
  const padding = (n: number) => new Uint8Array((ALIGNMENT - (n % ALIGNMENT)) % ALIGNMENT);

  push(new TextEncoder().encode("GGUF"));
  u32(3);
  u64(tensors.length);
  u64(metadata.length);
  for (const [key, value] of metadata) {
    string(key);
    if (typeof value === "string") {
      u32(8); // GGUF_TYPE_STRING
      string(value);
    } else if ("u32" in value) {
      u32(4); // GGUF_TYPE_UINT32
      u32(value.u32);
    } else {
      u32(6); // GGUF_TYPE_FLOAT32
      scalar(4, (v) => v.setFloat32(0, value.f32, true));
    }
  }
  let offset = 0;
  for (const tensor of tensors) {
    string(tensor.name);
    u32(tensor.ne.length);
    for (const dim of tensor.ne) u64(dim);
    u32(0); // GGML_TYPE_F32
    u64(offset);
    offset += tensor.data.byteLength + padding(tensor.data.byteLength).length;
  }
  push(padding(length));
  for (const tensor of tensors) {
    push(new Uint8Array(tensor.data.buffer));
    push(padding(tensor.data.byteLength));
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Write the tiny model into `dir` and return its path. */
export function writeTinyLm(dir: string, seed = 11): string {
  const path = join(dir, `tiny-lm-${seed}.gguf`);
  writeFileSync(path, tinyLmBytes(seed));
  return path;
}
