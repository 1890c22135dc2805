/**
 * A tiny random Vocos state dict and a float64 reference decode written straight from the official code's
 * definitions (vocos/feature_extractors.py EncodecFeatures, vocos/models.py VocosBackbone, vocos/modules.py
 * ConvNeXtBlock / AdaLayerNorm, vocos/heads.py ISTFTHead, vocos/spectral_ops.py ISTFT "same"): the irfft as its
 * defining sum, the overlap-add and the envelope sample by sample — nothing shared with the ggml graph.
 */
import type { VocosTensorData } from "../lib/index.js";

export interface TinyVocosShape {
  inputChannels: number;
  dim: number;
  intermediateDim: number;
  layers: number;
  bandwidths: number;
  codebooks: number;
}

export const TINY_VOCOS: TinyVocosShape = {
  inputChannels: 8,
  dim: 16,
  intermediateDim: 48,
  layers: 2,
  bandwidths: 4,
  codebooks: 16,
};
const BINS = 1024;
const N_FFT = 1280;
const HOP = 320;

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Every key of the published checkpoint at a tiny size, with values that exercise every path. */
export function tinyVocosTensors(shape: TinyVocosShape = TINY_VOCOS, seed = 3): VocosTensorData[] {
  const random = seeded(seed);
  const uniform =
    (scale: number, offset = 0) =>
    () =>
      offset + scale * (random() * 2 - 1);
  const tensor = (name: string, dims: number[], value: () => number): VocosTensorData => ({
    name,
    shape: dims,
    data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, value),
  });
  const { inputChannels: c, dim: d, intermediateDim: m, bandwidths: b } = shape;
  const out = [
    tensor("feature_extractor.codebook_weights", [shape.codebooks * BINS, c], uniform(0.8)),
    tensor("backbone.embed.weight", [d, c, 7], uniform(0.3)),
    tensor("backbone.embed.bias", [d], uniform(0.1)),
    tensor("backbone.norm.scale.weight", [b, d], uniform(0.2, 1)),
    tensor("backbone.norm.shift.weight", [b, d], uniform(0.2)),
  ];
  for (let i = 0; i < shape.layers; i++) {
    const p = `backbone.convnext.${i}.`;
    out.push(
      tensor(`${p}dwconv.weight`, [d, 1, 7], uniform(0.4)),
      tensor(`${p}dwconv.bias`, [d], uniform(0.1)),
      tensor(`${p}norm.scale.weight`, [b, d], uniform(0.2, 1)),
      tensor(`${p}norm.shift.weight`, [b, d], uniform(0.2)),
      tensor(`${p}pwconv1.weight`, [m, d], uniform(0.4)),
      tensor(`${p}pwconv1.bias`, [m], uniform(0.1)),
      tensor(`${p}pwconv2.weight`, [d, m], uniform(0.2)),
      tensor(`${p}pwconv2.bias`, [d], uniform(0.1)),
      tensor(`${p}gamma`, [d], uniform(0.2, 0.5)),
    );
  }
  out.push(
    tensor("backbone.final_layer_norm.weight", [d], uniform(0.2, 1)),
    tensor("backbone.final_layer_norm.bias", [d], uniform(0.1)),
    // Log-magnitudes mostly in [-3, 3] and a few above ln 100, so the clip is exercised.
    tensor("head.out.weight", [N_FFT + 2, d], uniform(0.9)),
    tensor("head.out.bias", [N_FFT + 2], uniform(0.5)),
    tensor(
      "head.istft.window",
      [N_FFT],
      (() => {
        let n = 0;
        return () => 0.5 - 0.5 * Math.cos((2 * Math.PI * n++) / N_FFT);
      })(),
    ),
  );
  return out;
}

export interface VocosReference {
  features: Float64Array; // [frames][inputChannels]
  backbone: Float64Array; // [frames][dim]
  audio: Float64Array;
}

/** The official decode in float64, for codes [codebooks × frames] and the bandwidth id of their count. */
export function referenceVocosDecode(
  tensors: VocosTensorData[],
  codes: Int16Array,
  codebooks: number,
  bandwidth = Math.log2(codebooks) - 1,
): VocosReference {
  const w = new Map(tensors.map((t) => [t.name, t.data]));
  const get = (name: string) => w.get(name) as Float32Array;
  const c = (tensors.find((t) => t.name === "backbone.embed.weight") as VocosTensorData).shape[1] as number;
  const d = (get("backbone.embed.bias") as Float32Array).length;
  const m = get("backbone.convnext.0.pwconv1.bias").length;
  let layers = 0;
  while (w.has(`backbone.convnext.${layers}.gamma`)) layers++;
  const frames = codes.length / codebooks;

  const features = new Float64Array(frames * c);
  const table = get("feature_extractor.codebook_weights");
  for (let t = 0; t < frames; t++) {
    for (let q = 0; q < codebooks; q++) {
      const rowAt = (q * BINS + (codes[q * frames + t] as number)) * c;
      for (let j = 0; j < c; j++) features[t * c + j] = (features[t * c + j] as number) + (table[rowAt + j] as number);
    }
  }
  // conv k7, zero padding 3: x [T][in] → [T][out]; weight [out][in][7] (depthwise: in = 1, groups = out)
  const conv = (
    x: Float64Array,
    inC: number,
    outC: number,
    weight: Float32Array,
    bias: Float32Array,
    depthwise: boolean,
  ) => {
    const y = new Float64Array(frames * outC);
    for (let t = 0; t < frames; t++) {
      for (let o = 0; o < outC; o++) {
        let sum = bias[o] as number;
        for (let k = 0; k < 7; k++) {
          const s = t + k - 3;
          if (s < 0 || s >= frames) continue;
          if (depthwise) sum += (weight[o * 7 + k] as number) * (x[s * inC + o] as number);
          else
            for (let i = 0; i < inC; i++) sum += (weight[(o * inC + i) * 7 + k] as number) * (x[s * inC + i] as number);
        }
        y[t * outC + o] = sum;
      }
    }
    return y;
  };
  const layerNorm = (x: Float64Array, scale: (j: number) => number, shift: (j: number) => number) => {
    for (let t = 0; t < frames; t++) {
      let mean = 0;
      for (let j = 0; j < d; j++) mean += x[t * d + j] as number;
      mean /= d;
      let variance = 0;
      for (let j = 0; j < d; j++) variance += ((x[t * d + j] as number) - mean) ** 2;
      variance /= d;
      const inv = 1 / Math.sqrt(variance + 1e-6);
      for (let j = 0; j < d; j++) x[t * d + j] = ((x[t * d + j] as number) - mean) * inv * scale(j) + shift(j);
    }
  };
  const adaNorm = (x: Float64Array, prefix: string) => {
    const scale = get(`${prefix}.scale.weight`);
    const shift = get(`${prefix}.shift.weight`);
    layerNorm(
      x,
      (j) => scale[bandwidth * d + j] as number,
      (j) => shift[bandwidth * d + j] as number,
    );
  };
  const linear = (x: Float64Array, inC: number, outC: number, weight: Float32Array, bias: Float32Array) => {
    const y = new Float64Array(frames * outC);
    for (let t = 0; t < frames; t++) {
      for (let o = 0; o < outC; o++) {
        let sum = bias[o] as number;
        for (let i = 0; i < inC; i++) sum += (weight[o * inC + i] as number) * (x[t * inC + i] as number);
        y[t * outC + o] = sum;
      }
    }
    return y;
  };
  const erf = (x: number) => {
    // Abramowitz–Stegun 7.1.26 is too coarse; use the series / continued fraction through Math functions instead.
    const sign = Math.sign(x);
    const a = Math.abs(x);
    if (a < 3) {
      let term = a;
      let sum = a;
      for (let n = 1; n < 60; n++) {
        term *= (-a * a) / n;
        sum += term / (2 * n + 1);
      }
      return (sign * 2 * sum) / Math.sqrt(Math.PI);
    }
    let fraction = 0;
    for (let n = 60; n >= 1; n--) fraction = n / 2 / (a + fraction);
    return sign * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + fraction));
  };

  let x = conv(features, c, d, get("backbone.embed.weight"), get("backbone.embed.bias"), false);
  adaNorm(x, "backbone.norm");
  for (let l = 0; l < layers; l++) {
    const p = `backbone.convnext.${l}.`;
    const y = conv(x, d, d, get(`${p}dwconv.weight`), get(`${p}dwconv.bias`), true);
    adaNorm(y, `${p}norm`);
    const h = linear(y, d, m, get(`${p}pwconv1.weight`), get(`${p}pwconv1.bias`));
    for (let i = 0; i < h.length; i++) h[i] = 0.5 * (h[i] as number) * (1 + erf((h[i] as number) / Math.SQRT2));
    const z = linear(h, m, d, get(`${p}pwconv2.weight`), get(`${p}pwconv2.bias`));
    const gamma = get(`${p}gamma`);
    const next = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) next[i] = (x[i] as number) + (gamma[i % d] as number) * (z[i] as number);
    x = next;
  }
  const finalW = get("backbone.final_layer_norm.weight");
  const finalB = get("backbone.final_layer_norm.bias");
  layerNorm(
    x,
    (j) => finalW[j] as number,
    (j) => finalB[j] as number,
  );
  const backbone = x;

  const freq = N_FFT / 2 + 1;
  const spec = linear(backbone, d, N_FFT + 2, get("head.out.weight"), get("head.out.bias"));
  const window = get("head.istft.window");
  const length = (frames - 1) * HOP + N_FFT;
  const signal = new Float64Array(length);
  const envelope = new Float64Array(length);
  for (let t = 0; t < frames; t++) {
    for (let n = 0; n < N_FFT; n++) {
      let sum = 0;
      for (let k = 0; k < freq; k++) {
        const mag = Math.min(Math.exp(spec[t * (N_FFT + 2) + k] as number), 100);
        const phase = spec[t * (N_FFT + 2) + freq + k] as number;
        const angle = (2 * Math.PI * ((k * n) % N_FFT)) / N_FFT;
        const re = mag * Math.cos(phase);
        const im = mag * Math.sin(phase);
        if (k === 0 || k === freq - 1) sum += re * Math.cos(angle);
        else sum += 2 * (re * Math.cos(angle) - im * Math.sin(angle));
      }
      const at = t * HOP + n;
      signal[at] = (signal[at] as number) + (sum / N_FFT) * (window[n] as number);
      envelope[at] = (envelope[at] as number) + (window[n] as number) ** 2;
    }
  }
  const trim = (N_FFT - HOP) / 2;
  const audio = new Float64Array(frames * HOP);
  for (let i = 0; i < audio.length; i++) audio[i] = (signal[i + trim] as number) / (envelope[i + trim] as number);
  return { features, backbone, audio };
}
