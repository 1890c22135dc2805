/**
 * EnCodec 24 kHz written straight from the reference (encodec's `encodec/modules/conv.py`, `seanet.py`, `lstm.py`,
 * `encodec/quantization/core_vq.py`, `encodec/model.py` `encode` / `decode`) in plain TypeScript and float64: small,
 * slow and obvious, to check the native ggml graphs on tiny models. Activations are arrays of channels (Float64Array
 * per channel, time along the array).
 */
import type { EncodecBin } from "../src/weights/encodec-bin.js";
import { ENCODER_STRIDES } from "../src/weights/layout.js";

type Signal = Float64Array[];

function tensor(bin: EncodecBin, name: string): Float32Array {
  const t = bin.tensors.get(name);
  if (!t) throw new Error(`missing ${name}`);
  return t.data;
}

function shape(bin: EncodecBin, name: string): number[] {
  const t = bin.tensors.get(name);
  if (!t) throw new Error(`missing ${name}`);
  return t.shape;
}

/** Reflect padding with the short-input rule (encodec's `encodec/modules/conv.py` `pad1d`). */
function padReflect(x: Float64Array, left: number, right: number): Float64Array {
  const length = x.length;
  const widest = Math.max(left, right);
  const extension = length > widest ? 0 : widest - length + 1;
  const extended = new Float64Array(length + extension);
  extended.set(x);
  const out = new Float64Array(length + left + right);
  for (let p = 0; p < out.length; p++) {
    let i = p - left;
    if (i < 0) i = -i;
    if (i >= extended.length) i = 2 * (extended.length - 1) - i;
    out[p] = extended[i] as number;
  }
  return out;
}

/** Causal SConv1d: weight [out][in][k]. */
function conv1d(x: Signal, bin: EncodecBin, name: string, stride: number): Signal {
  const w = tensor(bin, `${name}.weight`);
  const b = tensor(bin, `${name}.bias`);
  const [outChannels, inChannels, k] = shape(bin, `${name}.weight`) as [number, number, number];
  const length = (x[0] as Float64Array).length;
  const extra = Math.ceil(length / stride) * stride - length;
  const padded = x.map((channel) => padReflect(channel, k - stride, extra));
  const frames = ((padded[0] as Float64Array).length - k) / stride + 1;
  const y: Signal = [];
  for (let o = 0; o < outChannels; o++) {
    const out = new Float64Array(frames).fill(b[o] as number);
    for (let c = 0; c < inChannels; c++) {
      const input = padded[c] as Float64Array;
      for (let j = 0; j < k; j++) {
        const weight = w[(o * inChannels + c) * k + j] as number;
        for (let t = 0; t < frames; t++) out[t] = (out[t] as number) + weight * (input[t * stride + j] as number);
      }
    }
    y.push(out);
  }
  return y;
}

/** Causal SConvTranspose1d: weight [in][out][k], trailing k − s trimmed. */
function convTranspose(x: Signal, bin: EncodecBin, name: string, stride: number): Signal {
  const w = tensor(bin, `${name}.weight`);
  const b = tensor(bin, `${name}.bias`);
  const [inChannels, outChannels, k] = shape(bin, `${name}.weight`) as [number, number, number];
  const frames = (x[0] as Float64Array).length;
  const full = (frames - 1) * stride + k;
  const y: Signal = [];
  for (let o = 0; o < outChannels; o++) {
    const out = new Float64Array(full).fill(b[o] as number);
    for (let i = 0; i < inChannels; i++) {
      const input = x[i] as Float64Array;
      for (let j = 0; j < k; j++) {
        const weight = w[(i * outChannels + o) * k + j] as number;
        for (let t = 0; t < frames; t++)
          out[t * stride + j] = (out[t * stride + j] as number) + weight * (input[t] as number);
      }
    }
    y.push(out.subarray(0, full - (k - stride)));
  }
  return y;
}

const elu = (x: Signal): Signal => x.map((c) => c.map((v) => (v > 0 ? v : Math.expm1(v))));
const add = (a: Signal, b: Signal): Signal =>
  a.map((c, i) => c.map((v, t) => v + ((b[i] as Float64Array)[t] as number)));

function resblock(x: Signal, bin: EncodecBin, prefix: string): Signal {
  let y = conv1d(elu(x), bin, `${prefix}.block.1.conv.conv`, 1);
  y = conv1d(elu(y), bin, `${prefix}.block.3.conv.conv`, 1);
  return add(conv1d(x, bin, `${prefix}.shortcut.conv.conv`, 1), y);
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** SLSTM: two layers (gate order i, f, g, o), output plus input. */
function lstm(x: Signal, bin: EncodecBin, prefix: string): Signal {
  const dim = x.length;
  const frames = (x[0] as Float64Array).length;
  let input = x;
  for (const layer of [0, 1]) {
    const wih = tensor(bin, `${prefix}.lstm.weight_ih_l${layer}`);
    const whh = tensor(bin, `${prefix}.lstm.weight_hh_l${layer}`);
    const bih = tensor(bin, `${prefix}.lstm.bias_ih_l${layer}`);
    const bhh = tensor(bin, `${prefix}.lstm.bias_hh_l${layer}`);
    const h = new Float64Array(dim);
    const c = new Float64Array(dim);
    const out: Signal = Array.from({ length: dim }, () => new Float64Array(frames));
    for (let t = 0; t < frames; t++) {
      const z = new Float64Array(4 * dim);
      for (let r = 0; r < 4 * dim; r++) {
        let sum = (bih[r] as number) + (bhh[r] as number);
        for (let j = 0; j < dim; j++) {
          sum +=
            (wih[r * dim + j] as number) * ((input[j] as Float64Array)[t] as number) +
            (whh[r * dim + j] as number) * (h[j] as number);
        }
        z[r] = sum;
      }
      for (let j = 0; j < dim; j++) {
        const i = sigmoid(z[j] as number);
        const f = sigmoid(z[dim + j] as number);
        const g = Math.tanh(z[2 * dim + j] as number);
        const o = sigmoid(z[3 * dim + j] as number);
        c[j] = f * (c[j] as number) + i * g;
        h[j] = o * Math.tanh(c[j] as number);
        (out[j] as Float64Array)[t] = h[j] as number;
      }
    }
    input = out;
  }
  return add(input, x);
}

/** The encoder's latent [hidden][frames] for 24 kHz samples. */
export function referenceLatent(bin: EncodecBin, samples: Float32Array): Signal {
  let h = conv1d([Float64Array.from(samples)], bin, "encoder.model.0.conv.conv", 1);
  ENCODER_STRIDES.forEach((stride, i) => {
    h = resblock(h, bin, `encoder.model.${1 + 3 * i}`);
    h = conv1d(elu(h), bin, `encoder.model.${3 + 3 * i}.conv.conv`, stride);
  });
  h = lstm(h, bin, "encoder.model.13");
  return conv1d(elu(h), bin, "encoder.model.15.conv.conv", 1);
}

/** RVQ encode (nearest code by Euclidean distance, first index on ties): codes [codebooks × frames]. */
export function referenceQuantize(bin: EncodecBin, latent: Signal, codebooks: number): Int16Array {
  const hidden = latent.length;
  const frames = (latent[0] as Float64Array).length;
  const bins = bin.header.bins;
  const codes = new Int16Array(codebooks * frames);
  for (let t = 0; t < frames; t++) {
    const residual = Float64Array.from(latent, (channel) => channel[t] as number);
    for (let q = 0; q < codebooks; q++) {
      const book = tensor(bin, `quantizer.vq.layers.${q}._codebook.embed`);
      let best = 0;
      let bestDistance = Number.POSITIVE_INFINITY;
      for (let j = 0; j < bins; j++) {
        let distance = 0;
        for (let d = 0; d < hidden; d++) distance += ((residual[d] as number) - (book[j * hidden + d] as number)) ** 2;
        if (distance < bestDistance) {
          best = j;
          bestDistance = distance;
        }
      }
      codes[q * frames + t] = best;
      for (let d = 0; d < hidden; d++) residual[d] = (residual[d] as number) - (book[best * hidden + d] as number);
    }
  }
  return codes;
}

/** Decode codes [codebooks × frames] to 320·frames samples. */
export function referenceDecode(bin: EncodecBin, codes: Int16Array, codebooks: number): Float64Array {
  const hidden = bin.header.hiddenDim;
  const frames = codes.length / codebooks;
  let h: Signal = Array.from({ length: hidden }, () => new Float64Array(frames));
  for (let q = 0; q < codebooks; q++) {
    const book = tensor(bin, `quantizer.vq.layers.${q}._codebook.embed`);
    for (let t = 0; t < frames; t++) {
      const code = codes[q * frames + t] as number;
      for (let d = 0; d < hidden; d++)
        (h[d] as Float64Array)[t] = ((h[d] as Float64Array)[t] as number) + (book[code * hidden + d] as number);
    }
  }
  h = conv1d(h, bin, "decoder.model.0.conv.conv", 1);
  h = lstm(h, bin, "decoder.model.1");
  [...ENCODER_STRIDES].reverse().forEach((stride, i) => {
    h = convTranspose(elu(h), bin, `decoder.model.${3 + 3 * i}.convtr.convtr`, stride);
    h = resblock(h, bin, `decoder.model.${4 + 3 * i}`);
  });
  return conv1d(elu(h), bin, "decoder.model.15.conv.conv", 1)[0] as Float64Array;
}
