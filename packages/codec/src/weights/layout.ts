/**
 * The tensors an EnCodec 24 kHz weight file holds and their PyTorch shapes, derived from the header (the state dict of
 * encodec's `encodec/modules/seanet.py` `SEANetEncoder` / `SEANetDecoder` and `encodec/quantization/vq.py`
 * `ResidualVectorQuantizer`, as encodec.cpp's `convert.py` `parse_codec_model` writes it): what the converter writes
 * and what tiny test models contain. The native loader checks files against the same list.
 */
import type { EncodecBinHeader } from "./encodec-bin.js";

export const ENCODER_STRIDES = [2, 4, 5, 8] as const;

/** name → PyTorch shape, in the order encodec.cpp writes them (encoder, quantizer, decoder). */
export function encodecTensorShapes(header: EncodecBinHeader): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const { nFilters: nf, hiddenDim: h, kernelSize: ks, residualKernelSize: rks, bins } = header;
  const lstmDim = nf * 16;
  const conv = (name: string, k: number, inChannels: number, outChannels: number) => {
    out.set(`${name}.weight`, [outChannels, inChannels, k]);
    out.set(`${name}.bias`, [outChannels]);
  };
  const res = (prefix: string, dim: number) => {
    conv(`${prefix}.block.1.conv.conv`, rks, dim, dim / 2);
    conv(`${prefix}.block.3.conv.conv`, 1, dim / 2, dim);
    conv(`${prefix}.shortcut.conv.conv`, 1, dim, dim);
  };
  const lstm = (prefix: string) => {
    for (const layer of [0, 1]) {
      out.set(`${prefix}.lstm.weight_ih_l${layer}`, [4 * lstmDim, lstmDim]);
      out.set(`${prefix}.lstm.weight_hh_l${layer}`, [4 * lstmDim, lstmDim]);
      out.set(`${prefix}.lstm.bias_ih_l${layer}`, [4 * lstmDim]);
      out.set(`${prefix}.lstm.bias_hh_l${layer}`, [4 * lstmDim]);
    }
  };
  conv("encoder.model.0.conv.conv", ks, header.inChannels, nf);
  let dim = nf;
  ENCODER_STRIDES.forEach((stride, i) => {
    res(`encoder.model.${1 + 3 * i}`, dim);
    conv(`encoder.model.${3 + 3 * i}.conv.conv`, 2 * stride, dim, 2 * dim);
    dim *= 2;
  });
  lstm("encoder.model.13");
  conv("encoder.model.15.conv.conv", ks, lstmDim, h);
  const codebooks = Math.floor((header.bandwidth * 1000) / 750);
  for (let q = 0; q < codebooks; q++) out.set(`quantizer.vq.layers.${q}._codebook.embed`, [bins, h]);
  conv("decoder.model.0.conv.conv", ks, h, lstmDim);
  lstm("decoder.model.1");
  dim = lstmDim;
  [...ENCODER_STRIDES].reverse().forEach((stride, i) => {
    const up = `decoder.model.${3 + 3 * i}.convtr.convtr`;
    out.set(`${up}.weight`, [dim, dim / 2, 2 * stride]);
    out.set(`${up}.bias`, [dim / 2]);
    dim /= 2;
    res(`decoder.model.${4 + 3 * i}`, dim);
  });
  conv("decoder.model.15.conv.conv", ks, nf, header.inChannels);
  return out;
}

/** encodec.cpp's f16 rule: weights (not codebooks) in f16, biases and codebooks in f32. */
export function storedAsHalf(name: string): boolean {
  return !name.includes("embed") && name.includes("weight");
}

/** The 24 kHz model's header. */
export const ENCODEC_24KHZ_HEADER: EncodecBinHeader = {
  inChannels: 1,
  hiddenDim: 128,
  nFilters: 32,
  kernelSize: 7,
  residualKernelSize: 3,
  bins: 1024,
  bandwidth: 24,
  sampleRate: 24000,
  ftype: 0,
};
