/**
 * The VALL-E decoder forward pass (`vall_e/models/arch/llama.py` `DecoderLayer`, `Attention`, `MLP`; positions from
 * `vall_e/models/base.py` `inputs_to_position_ids`) in plain TypeScript and float64, from an F32 GGUF: RMSNorm, RoPE in
 * ggml's normal (adjacent-pair) mode on explicit positions, attention with the assembled mask, the gated MLP with exact
 * GELU or SiLU, logits for the output rows over the head. Small and slow, to check the native graph.
 */
import { readFileSync } from "node:fs";
import { gguf } from "@huggingface/gguf";
import type { AssembledInput } from "../src/inputs/assemble.js";

export interface ReferenceModel {
  width: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  eps: number;
  theta: number;
  tensors: Map<string, Float64Array>;
}

export async function loadReferenceModel(path: string): Promise<ReferenceModel> {
  const { metadata, tensorInfos, tensorDataOffset } = (await gguf(path, { allowLocalFile: true })) as unknown as {
    metadata: Record<string, number>;
    tensorInfos: { name: string; shape: bigint[]; dtype: number; offset: bigint }[];
    tensorDataOffset: bigint;
  };
  const bytes = readFileSync(path);
  const tensors = new Map<string, Float64Array>();
  for (const info of tensorInfos) {
    if (info.dtype !== 0) throw new Error(`reference reads F32 only (${info.name})`);
    const count = info.shape.reduce((a, b) => a * Number(b), 1);
    const start = Number(tensorDataOffset + info.offset);
    const view = new DataView(bytes.buffer, bytes.byteOffset + start, count * 4);
    tensors.set(
      info.name,
      Float64Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true)),
    );
  }
  return {
    width: metadata["llama.embedding_length"] as number,
    layers: metadata["llama.block_count"] as number,
    heads: metadata["llama.attention.head_count"] as number,
    kvHeads: metadata["llama.attention.head_count_kv"] as number,
    ffn: metadata["llama.feed_forward_length"] as number,
    eps: metadata["llama.attention.layer_norm_rms_epsilon"] as number,
    theta: metadata["llama.rope.freq_base"] as number,
    tensors,
  };
}

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 has 1.5e-7 absolute error; refine with the series for small |x| (exact enough here).
  if (Math.abs(x) < 2) {
    let sum = 0;
    let term = x;
    for (let n = 0; n < 60; n++) {
      sum += term / (2 * n + 1);
      term *= (-x * x) / (n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

const gelu = (x: number) => 0.5 * x * (1 + erf(x / Math.SQRT2));
const silu = (x: number) => x / (1 + Math.exp(-x));

/** y = W·x for a ggml matrix [in, out] (row `out` contiguous). */
function matvec(w: Float64Array, x: Float64Array, inSize: number, outSize: number): Float64Array {
  const y = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    let sum = 0;
    for (let i = 0; i < inSize; i++) sum += (w[o * inSize + i] as number) * (x[i] as number);
    y[o] = sum;
  }
  return y;
}

function rmsNorm(x: Float64Array, weight: Float64Array, eps: number): Float64Array {
  let sum = 0;
  for (const v of x) sum += v * v;
  const scale = 1 / Math.sqrt(sum / x.length + eps);
  return x.map((v, i) => v * scale * (weight[i] as number));
}

function rope(x: Float64Array, position: number, headDim: number, theta: number): void {
  for (let h = 0; h < x.length / headDim; h++) {
    for (let i = 0; i < headDim; i += 2) {
      const angle = position * theta ** (-i / headDim);
      const [c, s] = [Math.cos(angle), Math.sin(angle)];
      const a = x[h * headDim + i] as number;
      const b = x[h * headDim + i + 1] as number;
      x[h * headDim + i] = a * c - b * s;
      x[h * headDim + i + 1] = a * s + b * c;
    }
  }
}

/**
 * Logits [outputs × head size] of one assembled input. `trace`, when given, receives the per-token intermediates
 * under the native graph's names (inp_embd, l<i>.q, l<i>.k after RoPE, l<i>.attn_out, l<i>.out).
 */
export function referenceForward(
  model: ReferenceModel,
  input: AssembledInput,
  activation: "gelu" | "silu",
  trace?: Map<string, Float64Array[]>,
  headBiases = true,
): Float64Array {
  const { width, heads, kvHeads, ffn } = model;
  const headDim = width / heads;
  const kvWidth = headDim * kvHeads;
  const t = (name: string) => model.tensors.get(name) as Float64Array;
  const embd = t("token_embd.weight");
  const n = input.rows.length;
  let x = input.rows.map((rows) => {
    const v = new Float64Array(width);
    for (const row of rows) for (let d = 0; d < width; d++) v[d] = (v[d] as number) + (embd[row * width + d] as number);
    return v;
  });
  const act = activation === "gelu" ? gelu : silu;
  trace?.set("inp_embd", x);
  for (let l = 0; l < model.layers; l++) {
    const b = `blk.${l}.`;
    const h = x.map((v) => rmsNorm(v, t(`${b}attn_norm.weight`), model.eps));
    const q = h.map((v, i) => {
      const out = matvec(t(`${b}attn_q.weight`), v, width, width);
      rope(out, input.positions[i] as number, headDim, model.theta);
      return out;
    });
    const k = h.map((v, i) => {
      const out = matvec(t(`${b}attn_k.weight`), v, width, kvWidth);
      rope(out, input.positions[i] as number, headDim, model.theta);
      return out;
    });
    trace?.set(`l${l}.q`, q);
    trace?.set(`l${l}.k`, k);
    const vv = h.map((v) => matvec(t(`${b}attn_v.weight`), v, width, kvWidth));
    const attn = q.map((qi, i) => {
      const out = new Float64Array(width);
      for (let head = 0; head < heads; head++) {
        const kvHead = Math.floor(head / (heads / kvHeads));
        const scores: number[] = [];
        const visible: number[] = [];
        for (let j = 0; j < n; j++) {
          if (input.causal && j > i) continue;
          let dot = 0;
          for (let d = 0; d < headDim; d++)
            dot += (qi[head * headDim + d] as number) * ((k[j] as Float64Array)[kvHead * headDim + d] as number);
          scores.push(dot / Math.sqrt(headDim));
          visible.push(j);
        }
        const max = Math.max(...scores);
        const weights = scores.map((s) => Math.exp(s - max));
        const total = weights.reduce((a, c) => a + c, 0);
        visible.forEach((j, m) => {
          for (let d = 0; d < headDim; d++) {
            out[head * headDim + d] =
              (out[head * headDim + d] as number) +
              ((weights[m] as number) / total) * ((vv[j] as Float64Array)[kvHead * headDim + d] as number);
          }
        });
      }
      return out;
    });
    x = x.map((v, i) => {
      const o = matvec(t(`${b}attn_output.weight`), attn[i] as Float64Array, width, width);
      return v.map((value, d) => value + (o[d] as number));
    });
    trace?.set(`l${l}.attn_out`, x);
    x = x.map((v) => {
      const hn = rmsNorm(v, t(`${b}ffn_norm.weight`), model.eps);
      const gate = matvec(t(`${b}ffn_gate.weight`), hn, width, ffn);
      const up = matvec(t(`${b}ffn_up.weight`), hn, width, ffn);
      const down = matvec(
        t(`${b}ffn_down.weight`),
        gate.map((g, f) => act(g) * (up[f] as number)),
        ffn,
        width,
      );
      return v.map((value, d) => value + (down[d] as number));
    });
    trace?.set(`l${l}.out`, x);
  }
  const headSize = input.head.end - input.head.start;
  const out = new Float64Array(input.outputs * headSize);
  const output = t("output.weight");
  const bias = headBiases ? model.tensors.get("vall_e.output_bias") : undefined;
  for (let r = 0; r < input.outputs; r++) {
    const v = rmsNorm(x[n - input.outputs + r] as Float64Array, t("output_norm.weight"), model.eps);
    for (let o = 0; o < headSize; o++) {
      let sum = bias ? (bias[input.head.start + o] as number) : 0;
      for (let d = 0; d < width; d++) sum += (output[(input.head.start + o) * width + d] as number) * (v[d] as number);
      out[r * headSize + o] = sum;
    }
  }
  return out;
}
