/**
 * Seeded random-weight VALL-E GGUFs in exactly the published layout (llama architecture, the 17702 export names):
 * tiny ones for tests and the `tiny` bundle, full-shape ones (width 1024, 12 layers, 16 heads, FFN 4096) for
 * benchmarks. Matrices in F32, F16, BF16, Q8_0 or a K-quant (ggml's own conversion); norms F32.
 */
import { GGML_TYPES, type GgmlTypeName, quantize } from "@vall-e/native";
import { type GgufTensor, type GgufValue, writeGguf } from "./gguf-writer.js";
import { KNOWN_LAYOUT } from "./layout.js";
import { exportTokenNames } from "./vocabulary-names.js";

export interface RandomModelOptions {
  width: number;
  layers: number;
  heads: number;
  kvHeads?: number;
  ffn: number;
  /** Matrix type (default F32). */
  type?: GgmlTypeName;
  seed?: number;
  /** Phoneme strings for the text range (e.g. from a tokenizer.json). */
  textTokens?: readonly string[];
  /** Extra `vall_e.*` metadata (the model profile keys). */
  metadata?: Record<string, GgufValue>;
  /** Also write per-head output biases (`vall_e.output_bias`, F32 [17702]): random ones. */
  headBiases?: boolean;
  /**
   * Write `vall_e.output_bias` with these values at these output rows and 0 elsewhere (instead of random ones), to
   * shape a random model's behaviour — e.g. a stop token that comes early.
   */
  outputBias?: Readonly<Record<number, number>>;
}

export const FULL_SHAPE = { width: 1024, layers: 12, heads: 16, ffn: 4096 } as const;
export const TINY_SHAPE = { width: 64, layers: 2, heads: 4, ffn: 128 } as const;

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

export interface GgufParts {
  metadata: Record<string, GgufValue>;
  tensors: GgufTensor[];
}

/** Write a random model. */
export async function writeRandomModel(path: string, options: RandomModelOptions): Promise<void> {
  const { metadata, tensors } = await randomModel(options);
  writeGguf(path, metadata, tensors);
}

/** A random model's metadata and tensors (tests edit them to make broken files). */
export async function randomModel(options: RandomModelOptions): Promise<GgufParts> {
  const { width, layers, heads, ffn } = options;
  const kvHeads = options.kvHeads ?? heads;
  const type = options.type ?? "F32";
  const random = gaussianSource(options.seed ?? 1);
  const vocab = KNOWN_LAYOUT.vocabularySize;
  const kvWidth = (width / heads) * kvHeads;

  const matrix = async (
    name: string,
    rows: number,
    cols: number,
    scale: number,
    matrixType: GgmlTypeName = type,
  ): Promise<GgufTensor> => {
    const values = new Float32Array(rows * cols);
    for (let i = 0; i < values.length; i++) values[i] = random() * scale;
    const data = matrixType === "F32" ? new Uint8Array(values.buffer) : await quantize(values, matrixType, rows, cols);
    return { name, ne: [cols, rows], type: GGML_TYPES[matrixType], data };
  };
  const norm = (name: string): GgufTensor => {
    const values = Float32Array.from({ length: width }, () => 1 + 0.1 * random());
    return { name, ne: [width], type: 0, data: new Uint8Array(values.buffer) };
  };

  const tensors: GgufTensor[] = [await matrix("token_embd.weight", vocab, width, 1, type === "F32" ? "F32" : type)];
  for (let l = 0; l < layers; l++) {
    const b = `blk.${l}.`;
    tensors.push(norm(`${b}attn_norm.weight`));
    tensors.push(await matrix(`${b}attn_q.weight`, width, width, 1 / Math.sqrt(width)));
    tensors.push(await matrix(`${b}attn_k.weight`, kvWidth, width, 1 / Math.sqrt(width)));
    tensors.push(await matrix(`${b}attn_v.weight`, kvWidth, width, 1 / Math.sqrt(width)));
    tensors.push(await matrix(`${b}attn_output.weight`, width, width, 1 / Math.sqrt(width)));
    tensors.push(norm(`${b}ffn_norm.weight`));
    tensors.push(await matrix(`${b}ffn_gate.weight`, ffn, width, 1 / Math.sqrt(width)));
    tensors.push(await matrix(`${b}ffn_up.weight`, ffn, width, 1 / Math.sqrt(width)));
    tensors.push(await matrix(`${b}ffn_down.weight`, width, ffn, 1 / Math.sqrt(ffn)));
  }
  tensors.push(norm("output_norm.weight"));
  tensors.push(await matrix("output.weight", vocab, width, 1 / Math.sqrt(width)));
  if (options.outputBias) {
    const values = new Float32Array(vocab);
    for (const [row, value] of Object.entries(options.outputBias)) values[Number(row)] = value;
    tensors.push({ name: "vall_e.output_bias", ne: [vocab], type: 0, data: new Uint8Array(values.buffer) });
  } else if (options.headBiases) tensors.push(await matrix("vall_e.output_bias", 1, vocab, 1, "F32"));

  return {
    metadata: {
      "general.architecture": "llama",
      "general.name": "vall-e random",
      "llama.vocab_size": vocab,
      "llama.context_length": 22500,
      "llama.embedding_length": width,
      "llama.block_count": layers,
      "llama.feed_forward_length": ffn,
      "llama.attention.head_count": heads,
      "llama.attention.head_count_kv": kvHeads,
      "llama.rope.freq_base": { f32: 10000 },
      "llama.attention.layer_norm_rms_epsilon": { f32: 1e-6 },
      "llama.rope.dimension_count": width / heads,
      "tokenizer.ggml.model": "gpt2",
      "tokenizer.ggml.tokens": exportTokenNames(options.textTokens),
      "tokenizer.ggml.merges": [],
      "tokenizer.ggml.bos_token_id": 1,
      "tokenizer.ggml.eos_token_id": 2,
      ...options.metadata,
    },
    tensors,
  };
}
