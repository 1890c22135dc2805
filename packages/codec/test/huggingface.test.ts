import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { Codec } from "../src/codec.js";
import { convertHuggingFaceEncodec, officialName } from "../src/weights/huggingface.js";
import { makeTinyEncodec, seededRandom, writeTinyEncodec } from "./tiny-model.js";

const HF_CONFIG = {
  sampling_rate: 24000,
  audio_channels: 1,
  hidden_size: 8,
  num_filters: 2,
  codebook_size: 16,
  kernel_size: 7,
  last_kernel_size: 7,
  residual_kernel_size: 3,
  upsampling_ratios: [8, 5, 4, 2],
  use_causal_conv: true,
  norm_type: "weight_norm",
  num_lstm_layers: 2,
  num_residual_layers: 1,
  compress: 2,
  normalize: false,
};

const hfName = (name: string) =>
  name
    .replace(/^quantizer\.vq\.layers\.(\d+)\._codebook\./, "quantizer.layers.$1.codebook.")
    .replace(/^decoder\.model\.(\d+)\.convtr\.convtr\./, "decoder.layers.$1.conv.")
    .replace(/^(encoder|decoder)\.model\.(\d+)\.(block\.[13]|shortcut)\.conv\.conv\./, "$1.layers.$2.$3.conv.")
    .replace(/^(encoder|decoder)\.model\.(\d+)\.lstm\./, "$1.layers.$2.lstm.")
    .replace(/^(encoder|decoder)\.model\.(\d+)\.conv\.conv\./, "$1.layers.$2.conv.");

/** Write a tiny model as a Hugging Face checkpoint: HF key names, weight norm unfolded (v = W·s, g = ‖W‖). */
function writeHuggingFace(dir: string, spelling: "g/v" | "parametrizations"): void {
  const bin = makeTinyEncodec(77);
  const random = seededRandom(5);
  const tensors: [string, number[], Float32Array][] = [];
  for (const [name, tensor] of bin.tensors) {
    const shape = tensor.shape.length ? tensor.shape : [1];
    if (name.endsWith(".weight") && !name.includes(".lstm.")) {
      const rows = shape[0] as number;
      const rowSize = tensor.data.length / rows;
      const v = new Float32Array(tensor.data.length);
      const g = new Float32Array(rows);
      for (let r = 0; r < rows; r++) {
        const s = 0.5 + random();
        let norm = 0;
        for (let i = 0; i < rowSize; i++) norm += (tensor.data[r * rowSize + i] as number) ** 2;
        g[r] = Math.sqrt(norm);
        for (let i = 0; i < rowSize; i++) v[r * rowSize + i] = (tensor.data[r * rowSize + i] as number) * s;
      }
      const base = hfName(name).slice(0, -".weight".length);
      const [gName, vName] =
        spelling === "g/v"
          ? [`${base}.weight_g`, `${base}.weight_v`]
          : [`${base}.parametrizations.weight.original0`, `${base}.parametrizations.weight.original1`];
      tensors.push([gName, [rows, 1, 1], g], [vName, shape, v]);
    } else {
      tensors.push([hfName(name), shape, tensor.data]);
    }
  }
  tensors.push(["quantizer.layers.0.codebook.embed_avg", [16, 8], new Float32Array(128)]); // training-only, dropped
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, shape, data] of tensors) {
    header[name] = { dtype: "F32", shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let at = 8 + json.length;
  for (const [, , data] of tensors) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  writeFileSync(join(dir, "model.safetensors"), out);
  writeFileSync(join(dir, "config.json"), JSON.stringify(HF_CONFIG));
}

describe("Hugging Face EnCodec checkpoints", () => {
  it("maps key names to the official ones", () => {
    expect(officialName("encoder.layers.1.block.3.conv.weight_v")).toBe("encoder.model.1.block.3.conv.conv.weight_v");
    expect(officialName("decoder.layers.6.conv.parametrizations.weight.original0")).toBe(
      "decoder.model.6.convtr.convtr.weight_g",
    );
    expect(officialName("decoder.layers.0.conv.bias")).toBe("decoder.model.0.conv.conv.bias");
    expect(officialName("encoder.layers.13.lstm.weight_ih_l1")).toBe("encoder.model.13.lstm.weight_ih_l1");
    expect(officialName("quantizer.layers.31.codebook.embed")).toBe("quantizer.vq.layers.31._codebook.embed");
  });

  for (const spelling of ["g/v", "parametrizations"] as const) {
    it(`folds weight norm (${spelling}) back to the original weights, and Codec.load reads the checkpoint`, async () => {
      const dir = tempDir("hf-encodec-");
      writeHuggingFace(dir, spelling);
      const converted = await convertHuggingFaceEncodec(dir);
      for (const [name, tensor] of makeTinyEncodec(77).tensors) {
        const other = converted.tensors.get(name)?.data as Float32Array;
        let worst = 0;
        for (let i = 0; i < tensor.data.length; i++) {
          worst = Math.max(
            worst,
            Math.abs((other[i] as number) - (tensor.data[i] as number)) / (Math.abs(tensor.data[i] as number) + 1e-3),
          );
        }
        expect(worst, name).toBeLessThan(1e-5);
      }
      await using fromHf = await Codec.load(dir);
      await using fromBin = await Codec.load(writeTinyEncodec(dir, 77));
      const codes = { codes: Int16Array.from({ length: 80 }, (_, i) => i % 16), codebooks: 8 };
      const [a, b] = [await fromHf.decode(codes), await fromBin.decode(codes)];
      let worst = 0;
      for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
      expect(worst).toBeLessThan(1e-5);
    });
  }

  it("refuses other models and damaged files, naming the problem", async () => {
    const dir = tempDir("hf-encodec-");
    writeHuggingFace(dir, "g/v");
    writeFileSync(join(dir, "config.json"), JSON.stringify({ sampling_rate: 48000 }));
    await expect(convertHuggingFaceEncodec(dir)).rejects.toThrow(
      `${join(dir, "config.json")}: sampling_rate is 48000, expected 24000 (EnCodec 24 kHz)`,
    );
    writeFileSync(join(dir, "config.json"), "{}");
    writeFileSync(join(dir, "model.safetensors"), new Uint8Array(4));
    await expect(convertHuggingFaceEncodec(dir)).rejects.toThrow(
      `${join(dir, "model.safetensors")} is not a safetensors file (too short)`,
    );
    await expect(convertHuggingFaceEncodec(join(dir, "none.safetensors"))).rejects.toMatchObject({
      code: "ERR_FILE_NOT_FOUND",
    });
  });
});
