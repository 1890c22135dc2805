/**
 * A tiny seeded random EnCodec in encodec.cpp's ggml binary layout (the approach of @vall-e/codec's randomEncodec(),
 * written here so that the native package's tests need no other package): 2 filters (LSTM width 32, so the
 * recurrence splits over 2 threads), latent 8, 16 codes per codebook, 32 codebooks. Same architecture and records as
 * the real file, so the native loader and graphs run unchanged.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const STRIDES = [2, 4, 5, 8];

/** name → shape, innermost dimension first (as the file stores it). */
function tensorShapes(filters: number, hidden: number, bins: number, codebooks: number): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const lstmDim = filters * 16;
  const conv = (name: string, k: number, input: number, output: number) => {
    shapes.set(`${name}.weight`, [k, input, output]);
    shapes.set(`${name}.bias`, [output]);
  };
  const residual = (prefix: string, dim: number) => {
    conv(`${prefix}.block.1.conv.conv`, 3, dim, dim / 2);
    conv(`${prefix}.block.3.conv.conv`, 1, dim / 2, dim);
    conv(`${prefix}.shortcut.conv.conv`, 1, dim, dim);
  };
  const lstm = (prefix: string) => {
    for (const layer of [0, 1]) {
      shapes.set(`${prefix}.lstm.weight_ih_l${layer}`, [lstmDim, 4 * lstmDim]);
      shapes.set(`${prefix}.lstm.weight_hh_l${layer}`, [lstmDim, 4 * lstmDim]);
      shapes.set(`${prefix}.lstm.bias_ih_l${layer}`, [4 * lstmDim]);
      shapes.set(`${prefix}.lstm.bias_hh_l${layer}`, [4 * lstmDim]);
    }
  };
  conv("encoder.model.0.conv.conv", 7, 1, filters);
  let dim = filters;
  STRIDES.forEach((stride, i) => {
    residual(`encoder.model.${1 + 3 * i}`, dim);
    conv(`encoder.model.${3 + 3 * i}.conv.conv`, 2 * stride, dim, 2 * dim);
    dim *= 2;
  });
  lstm("encoder.model.13");
  conv("encoder.model.15.conv.conv", 7, lstmDim, hidden);
  conv("decoder.model.0.conv.conv", 7, hidden, lstmDim);
  lstm("decoder.model.1");
  dim = lstmDim;
  [...STRIDES].reverse().forEach((stride, i) => {
    const up = `decoder.model.${3 + 3 * i}.convtr.convtr`;
    shapes.set(`${up}.weight`, [2 * stride, dim / 2, dim]);
    shapes.set(`${up}.bias`, [dim / 2]);
    dim /= 2;
    residual(`decoder.model.${4 + 3 * i}`, dim);
  });
  conv("decoder.model.15.conv.conv", 7, filters, 1);
  for (let q = 0; q < codebooks; q++) shapes.set(`quantizer.vq.layers.${q}._codebook.embed`, [hidden, bins]);
  return shapes;
}

/** The file's bytes: magic, 9 header fields, then (n_dims, name length, ftype 0, dims, name, f32 data) records. */
export function tinyEncodecBytes(seed = 1234): Uint8Array {
  const header = { inChannels: 1, hidden: 8, filters: 2, kernel: 7, residualKernel: 3, bins: 16, bandwidth: 24 };
  let state = seed >>> 0;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const chunks: Uint8Array[] = [];
  const ints = (values: number[]) => chunks.push(new Uint8Array(Int32Array.from(values).buffer));
  ints([0x67676d6c, 1, header.hidden, header.filters, header.kernel, header.residualKernel, header.bins, 24, 24000, 0]);
  for (const [name, shape] of tensorShapes(header.filters, header.hidden, header.bins, 32)) {
    const count = shape.reduce((a, b) => a * b, 1);
    // Fan-in scaled weights keep activations O(1) through the stack; codebooks spread like the latents.
    const fanIn = shape.length === 3 ? (shape[0] as number) * (shape[1] as number) : (shape[0] as number);
    const scale = name.includes("embed") ? 1.5 : shape.length === 1 ? 0.1 : 1.6 / Math.sqrt(fanIn);
    const data = Float32Array.from({ length: count }, () => (random() * 2 - 1) * scale);
    const nameBytes = new TextEncoder().encode(name);
    ints([shape.length, nameBytes.length, 0, ...shape]);
    chunks.push(nameBytes, new Uint8Array(data.buffer));
  }
  const out = new Uint8Array(chunks.reduce((n, chunk) => n + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** Write the tiny model into `dir` and return its path. */
export function writeTinyEncodec(dir: string, seed = 1234): string {
  const path = join(dir, `tiny-encodec-${seed}.bin`);
  writeFileSync(path, tinyEncodecBytes(seed));
  return path;
}
