import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixture } from "@tooling/config/fixtures";
import { tempDir } from "@tooling/config/temp-dir";
import { unzipSync, zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { parseNpy } from "../src/artifact/npy.js";
import { floatToHalf } from "../src/weights/encodec-bin.js";
import { encodeTorchStateDict, parseTorchStateDict, readTorchStateDict } from "../src/weights/torch-zip.js";
import {
  randomVocos,
  readVocosWeights,
  TINY_VOCOS_CONFIG,
  VOCOS_ENCODEC_24KHZ,
  type VocosTensor,
  vocosConfigYaml,
  vocosTensorShapes,
  writeRandomVocos,
} from "../src/weights/vocos-weights.js";

const vocos = fixture("vocos");
const fixtureFile = (name: string) => join(vocos.path, name);

/** `torch.hann_window(n)` as torch computes it, in f32: 0.5 − 0.5·cos(f32(i) · f32(2π / n)), periodic. */
function torchHannWindow(n: number): Float32Array {
  const f = Math.fround;
  const step = f((2 * Math.PI) / n);
  return Float32Array.from({ length: n }, (_, i) => f(f(-0.5 * f(Math.cos(f(i * step)))) + 0.5));
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

const bits = (data: Float32Array) => new Uint32Array(data.buffer, data.byteOffset, data.length);

/** A safetensors file of `tensors` (F32, or another dtype's bytes given as they are). */
function safetensors(
  tensors: { name: string; shape: number[]; data: Float32Array; dtype?: string; raw?: Uint8Array }[],
) {
  const header: Record<string, unknown> = {};
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const { name, shape, data, dtype, raw } of tensors) {
    const bytes = raw ?? new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: dtype ?? "F32", shape, data_offsets: [offset, offset + bytes.length] };
    blobs.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let at = 8 + json.length;
  for (const blob of blobs) {
    out.set(blob, at);
    at += blob.length;
  }
  return out;
}

/** Rewrite a torch zip's entries (`edit` gets and returns name → bytes) and zip them again. */
function editZip(zip: Uint8Array, edit: (files: Record<string, Uint8Array>) => Record<string, Uint8Array>) {
  return zipSync(edit(unzipSync(zip)), { level: 0 });
}

/** Replace the bytes `from` (every occurrence) in `bytes` with `to`. */
function replaceBytes(bytes: Uint8Array, from: Uint8Array | string, to: Uint8Array | string): Uint8Array {
  const encode = (value: Uint8Array | string) => (typeof value === "string" ? new TextEncoder().encode(value) : value);
  const [a, b] = [encode(from), encode(to)];
  const out: number[] = [];
  let found = 0;
  for (let i = 0; i < bytes.length; ) {
    if (a.every((byte, j) => bytes[i + j] === byte)) {
      out.push(...b);
      i += a.length;
      found++;
    } else out.push(bytes[i++] as number);
  }
  expect(found, "bytes to replace").toBeGreaterThan(0);
  return Uint8Array.from(out);
}

/** The tiny model's tensors with `change` applied, as a .pt in a fresh folder (no config.yaml). */
function writeTiny(change: (tensors: VocosTensor[]) => VocosTensor[] = (t) => t, seed = 5): string {
  const path = join(tempDir("vocos-"), "model.pt");
  writeFileSync(path, encodeTorchStateDict(change(randomVocos({ seed }).tensors)));
  return path;
}

describe.skipIf(!vocos.present)(`the Vocos fixture made by the official PyTorch code ${vocos.reason}`, () => {
  it("reads vocos_random.pt: the 82 keys in state-dict order, the shapes of §10.5, the 24 kHz config", async () => {
    const weights = await readVocosWeights(fixtureFile("vocos_random.pt")); // cross-checks config.yaml beside it
    const info = JSON.parse(readFileSync(fixtureFile("golden_info.json"), "utf8"));
    expect(weights.config).toEqual(VOCOS_ENCODEC_24KHZ);
    expect(vocosConfigYaml(VOCOS_ENCODEC_24KHZ)).toBe(readFileSync(fixtureFile("config.yaml"), "utf8"));
    expect(weights.tensors.map((t) => t.name)).toEqual([...vocosTensorShapes(VOCOS_ENCODEC_24KHZ).keys()]);
    expect(weights.tensors.length).toBe(info.weights.keys);
    expect(weights.tensors.reduce((sum, t) => sum + t.data.length, 0)).toBe(info.weights.params);
    const shape = (name: string) => weights.tensors.find((t) => t.name === name)?.shape;
    expect(shape("feature_extractor.codebook_weights")).toEqual([16384, 128]);
    expect(shape("backbone.embed.weight")).toEqual([384, 128, 7]);
    expect(shape("backbone.norm.scale.weight")).toEqual([4, 384]);
    expect(shape("backbone.convnext.7.gamma")).toEqual([384]);
    expect(shape("backbone.convnext.3.dwconv.weight")).toEqual([384, 1, 7]);
    expect(shape("backbone.convnext.0.pwconv1.weight")).toEqual([1152, 384]);
    expect(shape("backbone.convnext.0.pwconv2.weight")).toEqual([384, 1152]);
    expect(shape("backbone.final_layer_norm.bias")).toEqual([384]);
    expect(shape("head.out.weight")).toEqual([1282, 384]);
    expect(shape("head.out.bias")).toEqual([1282]);
    expect(shape("head.istft.window")).toEqual([1280]);
    for (const tensor of weights.tensors) expect(tensor.data.length).toBe(tensor.shape.reduce((a, b) => a * b, 1));

    // Values: the window is torch.hann_window(1280); the init changes of the README; the codebook rows sum to the
    // golden features.
    const data = (name: string) => weights.tensors.find((t) => t.name === name)?.data as Float32Array;
    const window = data("head.istft.window");
    expect(maxAbs(window, torchHannWindow(1280))).toBeLessThanOrEqual(1e-7);
    const hann64 = Array.from({ length: 1280 }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 1280));
    expect(maxAbs(window, hann64)).toBeLessThan(3e-7);
    for (let i = 0; i < 8; i++) expect(new Set(data(`backbone.convnext.${i}.gamma`))).toEqual(new Set([0.5]));
    const scale = data("backbone.convnext.4.norm.scale.weight");
    const mean = scale.reduce((a, b) => a + b, 0) / scale.length;
    expect(Math.abs(mean - 1)).toBeLessThan(0.02);
    const codes = parseNpy(readFileSync(fixtureFile("random_codes_seed7.npy")), "codes").data as Int16Array;
    const features = parseNpy(readFileSync(fixtureFile("features_seed7.npy")), "features").data as Float32Array;
    const book = data("feature_extractor.codebook_weights");
    const frames = 150;
    const sum = new Float64Array(128 * frames); // [128, T], as features_seed7.npy
    for (let k = 0; k < 8; k++) {
      for (let t = 0; t < frames; t++) {
        const row = 1024 * k + (codes[k * frames + t] as number);
        for (let c = 0; c < 128; c++)
          sum[c * frames + t] = (sum[c * frames + t] as number) + (book[row * 128 + c] as number);
      }
    }
    expect(maxAbs(sum, features)).toBeLessThan(1e-5);
  });

  it("refuses the fixture with a config.yaml for another model, naming the field", async () => {
    const dir = tempDir("vocos-config-");
    const config = join(dir, "config.yaml");
    writeFileSync(config, readFileSync(fixtureFile("config.yaml"), "utf8").replace("num_layers: 8", "num_layers: 12"));
    await expect(readVocosWeights(fixtureFile("vocos_random.pt"), { config })).rejects.toThrow(
      `${config}: backbone.init_args.num_layers is 12, the weights have 8 (backbone.convnext.N blocks)`,
    );
  });
});

describe("tiny random Vocos", () => {
  it("writes a torch.save zip and a config.yaml that readVocosWeights reads back bit for bit", async () => {
    const dir = tempDir("vocos-");
    const path = join(dir, "tiny.pt");
    await writeRandomVocos(path, { seed: 11 });
    expect(readFileSync(join(dir, "config.yaml"), "utf8")).toBe(vocosConfigYaml(TINY_VOCOS_CONFIG));
    const read = await readVocosWeights(path);
    const made = randomVocos({ seed: 11 });
    expect(read.config).toEqual(TINY_VOCOS_CONFIG);
    expect(read.path).toBe(path);
    expect(read.tensors.map((t) => [t.name, t.shape])).toEqual(made.tensors.map((t) => [t.name, t.shape]));
    expect(read.tensors.length).toBe(1 + 4 + 9 * 2 + 2 + 3);
    for (const [i, tensor] of read.tensors.entries()) {
      expect(bits(tensor.data), tensor.name).toEqual(bits((made.tensors[i] as VocosTensor).data));
    }

    // The same bytes every time (fixed zip dates), other bytes for another seed.
    const again = join(dir, "again.pt");
    await writeRandomVocos(again, { seed: 11 });
    expect(readFileSync(again).equals(readFileSync(path))).toBe(true);
    expect(bits(randomVocos({ seed: 12 }).tensors[1]?.data as Float32Array)).not.toEqual(
      bits(made.tensors[1]?.data as Float32Array),
    );

    // The layout torch writes: stored entries archive/{data.pkl, byteorder, data/0…, version}, data 64-byte aligned.
    const bytes = readFileSync(path);
    const files = unzipSync(bytes);
    expect(Object.keys(files)).toEqual([
      "archive/data.pkl",
      "archive/byteorder",
      ...made.tensors.map((_, i) => `archive/data/${i}`),
      "archive/version",
    ]);
    expect(new TextDecoder().decode(files["archive/version"])).toBe("3\n");
    expect(new TextDecoder().decode(files["archive/byteorder"])).toBe("little");
    let entries = 0;
    for (let at = 0; bytes.readUInt32LE(at) === 0x04034b50; entries++) {
      const dataStart = at + 30 + bytes.readUInt16LE(at + 26) + bytes.readUInt16LE(at + 28);
      expect(bytes.readUInt16LE(at + 8), "compression").toBe(0);
      expect(dataStart % 64).toBe(0);
      at = dataStart + bytes.readUInt32LE(at + 18);
    }
    expect(entries).toBe(Object.keys(files).length);
  });

  it("reads the same model from a .safetensors file, and f16 / bf16 torch storages", async () => {
    const dir = tempDir("vocos-");
    const { tensors } = randomVocos({ seed: 2 });
    writeFileSync(join(dir, "model.safetensors"), safetensors(tensors));
    const read = await readVocosWeights(join(dir, "model.safetensors"));
    expect(read.config).toEqual(TINY_VOCOS_CONFIG);
    for (const [i, tensor] of read.tensors.entries()) {
      expect(bits(tensor.data), tensor.name).toEqual(bits((tensors[i] as VocosTensor).data));
    }

    // HalfStorage / BFloat16Storage: the same pickle naming another storage class, 2 bytes a value.
    const zip = encodeTorchStateDict(tensors);
    const half = (values: Float32Array, kind: "F16" | "BF16") => {
      const out = new Uint16Array(values.length);
      const words = bits(values);
      for (let i = 0; i < values.length; i++) {
        out[i] = kind === "F16" ? floatToHalf(values[i] as number) : (words[i] as number) >>> 16;
      }
      return new Uint8Array(out.buffer);
    };
    for (const [kind, storage] of [
      ["F16", "HalfStorage"],
      ["BF16", "BFloat16Storage"],
    ] as const) {
      const edited = editZip(zip, (files) => {
        const out: Record<string, Uint8Array> = {};
        for (const [name, data] of Object.entries(files)) {
          const index = /^archive\/data\/(\d+)$/.exec(name)?.[1];
          if (name === "archive/data.pkl")
            out[name] = replaceBytes(data, "torch\nFloatStorage\n", `torch\n${storage}\n`);
          else if (index) out[name] = half((tensors[Number(index)] as VocosTensor).data, kind);
          else out[name] = data;
        }
        return out;
      });
      const state = parseTorchStateDict(edited, `${kind}.pt`);
      const embed = state.get("backbone.embed.weight");
      expect(embed?.dtype).toBe(kind);
      const reference = tensors[1] as VocosTensor;
      expect(maxAbs(embed?.data as Float32Array, reference.data)).toBeLessThan(kind === "F16" ? 1e-3 : 1e-2);
      const path = join(dir, `${kind}.pt`);
      writeFileSync(path, edited);
      expect((await readVocosWeights(path)).config).toEqual(TINY_VOCOS_CONFIG);
    }
  });

  it("makes values that exercise every path: AdaLN near 1 ± 0.1, layer scale 0.5, mostly [-6, 2] log-magnitudes", () => {
    const { tensors } = randomVocos({ seed: 4 });
    const data = (name: string) => tensors.find((t) => t.name === name)?.data as Float32Array;
    const scale = data("backbone.norm.scale.weight");
    const shift = data("backbone.norm.shift.weight");
    const std = (values: Float32Array, center: number) =>
      Math.sqrt(values.reduce((a, v) => a + (v - center) ** 2, 0) / values.length);
    expect(std(scale, 1)).toBeGreaterThan(0.05);
    expect(std(scale, 1)).toBeLessThan(0.15);
    expect(std(shift, 0)).toBeGreaterThan(0.05);
    expect(std(shift, 0)).toBeLessThan(0.15);
    expect(new Set(data("backbone.convnext.1.gamma"))).toEqual(new Set([0.5]));
    const hann64 = Array.from({ length: 1280 }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / 1280));
    expect(maxAbs(data("head.istft.window"), Float32Array.from(hann64))).toBe(0);
    // The head on unit-variance features (what the final LayerNorm gives): log-magnitudes mostly in [-6, 2], a few
    // above ln 100 (the clip).
    const weight = data("head.out.weight");
    const bias = data("head.out.bias");
    const norm = data("backbone.final_layer_norm.weight");
    const dim = TINY_VOCOS_CONFIG.dim;
    let inside = 0;
    let clipped = 0;
    const frames = 200;
    let seed = 1;
    const uniform = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    for (let t = 0; t < frames; t++) {
      const x = Array.from(
        { length: dim },
        (_, c) => (norm[c] as number) * Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()),
      );
      for (let k = 0; k < 641; k++) {
        let value = bias[k] as number;
        for (let c = 0; c < dim; c++) value += (weight[k * dim + c] as number) * (x[c] as number);
        if (value >= -6 && value <= 2) inside++;
        if (value > Math.log(100)) clipped++;
      }
    }
    expect(inside / (frames * 641)).toBeGreaterThan(0.9);
    expect(clipped).toBeGreaterThan(0);
  });

  it("refuses sizes it cannot make", async () => {
    const path = join(tempDir("vocos-"), "x.pt");
    await expect(writeRandomVocos(path, { config: { nFft: 1024 } })).rejects.toThrow(
      "Expected 1280 for config.nFft, got 1024",
    );
    await expect(writeRandomVocos(path, { config: { dim: 0 } })).rejects.toThrow(
      "Expected an integer from 1 to 65536 for config.dim, got 0",
    );
  });
});

describe("damaged and foreign weight files are refused, naming the file and what is wrong", () => {
  it("not a zip, a legacy torch file, a truncated zip, a zip without data.pkl, a missing file", async () => {
    const dir = tempDir("vocos-bad-");
    const write = (name: string, bytes: Uint8Array | string) => {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      return path;
    };
    const text = write("text.pt", "hello world");
    await expect(readVocosWeights(text)).rejects.toThrow(
      `${text}: not a PyTorch checkpoint: not a zip archive (starts with 68 65 6c 6c)`,
    );
    await expect(readVocosWeights(text)).rejects.toMatchObject({ code: "ERR_CODEC_FORMAT" });
    const empty = write("empty.bin", "");
    await expect(readVocosWeights(empty)).rejects.toThrow(
      `${empty}: not a PyTorch checkpoint: not a zip archive (starts with nothing: the file is empty)`,
    );
    // torch.save(..., _use_new_zipfile_serialization=False): PROTO 2, then the magic number as a LONG1.
    const legacy = write("legacy.pth", new Uint8Array([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20]));
    await expect(readVocosWeights(legacy)).rejects.toThrow(
      `${legacy}: a legacy (torch < 1.6 or _use_new_zipfile_serialization=False) PyTorch file, not the zip format`,
    );
    const whole = encodeTorchStateDict(randomVocos().tensors);
    for (const keep of [whole.length - 1, Math.floor(whole.length / 2), 100]) {
      const cut = write(`cut-${keep}.pt`, whole.subarray(0, keep));
      await expect(readVocosWeights(cut)).rejects.toThrow(
        `${cut}: truncated or damaged zip archive (invalid zip data)`,
      );
    }
    const noPickle = write("nopickle.pt", zipSync({ "archive/version": new TextEncoder().encode("3\n") }));
    await expect(readVocosWeights(noPickle)).rejects.toThrow(
      `${noPickle}: not a PyTorch checkpoint: the zip archive has no <archive>/data.pkl`,
    );
    const noVersion = write(
      "noversion.pt",
      editZip(whole, ({ "archive/version": _, ...rest }) => rest),
    );
    await expect(readVocosWeights(noVersion)).rejects.toThrow(`${noVersion}: the zip archive has no archive/version`);
    const noData = write(
      "nodata.pt",
      editZip(whole, ({ "archive/data/3": _, ...rest }) => rest),
    );
    await expect(readVocosWeights(noData)).rejects.toThrow(
      `${noData}: the zip archive has no archive/data/3 (storage of tensor 'backbone.norm.scale.weight')`,
    );
    const short = write(
      "short.pt",
      editZip(whole, (files) => ({ ...files, "archive/data/2": new Uint8Array(12) })),
    );
    await expect(readVocosWeights(short)).rejects.toThrow(
      `${short}: storage '2' of tensor 'backbone.embed.bias' holds 12 bytes, expected 16 × 4 = 64`,
    );
    await expect(readVocosWeights(join(dir, "none.pt"))).rejects.toMatchObject({ code: "ERR_FILE_NOT_FOUND" });
    const badSafetensors = write("x.safetensors", new Uint8Array(4));
    await expect(readVocosWeights(badSafetensors)).rejects.toThrow(
      `${badSafetensors} is not a safetensors file (too short)`,
    );
  });

  it("refuses a pickle that names any other global (a pickle is data, never code)", () => {
    // GLOBAL os.system, a string, TUPLE1, REDUCE, STOP: the classic pickle exploit, as data.pkl.
    const pickle = Uint8Array.from([
      0x80,
      0x02,
      ...new TextEncoder().encode("cos\nsystem\n"),
      0x58,
      2,
      0,
      0,
      0,
      0x6c,
      0x73,
      0x85,
      0x52,
      0x2e,
    ]);
    const zip = zipSync({ "archive/data.pkl": pickle, "archive/version": new TextEncoder().encode("3\n") });
    expect(() => parseTorchStateDict(zip, "evil.pt")).toThrow(
      "evil.pt: unexpected pickle global 'os.system' (only tensors in an OrderedDict are accepted)",
    );
    // A storage class may only tag a storage: calling it is refused too.
    const call = zipSync({
      "archive/data.pkl": Uint8Array.from([
        0x80,
        0x02,
        ...new TextEncoder().encode("ctorch\nFloatStorage\n"),
        0x29,
        0x52,
        0x2e,
      ]),
      "archive/version": new TextEncoder().encode("3\n"),
    });
    expect(() => parseTorchStateDict(call, "call.pt")).toThrow(
      "call.pt: cannot call 'torch.FloatStorage' in the pickle",
    );
  });

  it("a missing, unexpected or misshapen tensor, a gap in the blocks, a wrong window or codebook table", async () => {
    const without = (name: string) => (tensors: VocosTensor[]) => tensors.filter((t) => t.name !== name);
    const path = writeTiny(without("backbone.convnext.1.pwconv2.bias"));
    await expect(readVocosWeights(path)).rejects.toThrow(
      `${path}: tensor 'backbone.convnext.1.pwconv2.bias' is missing (expected shape [16])`,
    );
    const noEmbed = writeTiny(without("backbone.embed.weight"));
    await expect(readVocosWeights(noEmbed)).rejects.toThrow(
      `${noEmbed}: tensor 'backbone.embed.weight' is missing (expected shape [dim, input_channels, 7])`,
    );
    const extra = writeTiny((t) => [...t, { name: "backbone.extra.weight", shape: [2], data: new Float32Array(2) }]);
    await expect(readVocosWeights(extra)).rejects.toThrow(
      `${extra}: unexpected tensor 'backbone.extra.weight' (shape [2]): a Vocos with 2 ConvNeXt blocks has only feature_extractor.codebook_weights, backbone.* and head.* tensors`,
    );
    // EnCodec's own weights, which the official code re-adds, are ignored.
    const encodec = writeTiny((t) => [
      ...t,
      { name: "feature_extractor.encodec.encoder.model.0.conv.conv.bias", shape: [2], data: new Float32Array(2) },
    ]);
    const read = await readVocosWeights(encodec);
    expect(read.tensors.map((t) => t.name)).toEqual([...vocosTensorShapes(TINY_VOCOS_CONFIG).keys()]);
    const reshaped = (name: string, shape: number[]) => (tensors: VocosTensor[]) =>
      tensors.map((t) => (t.name === name ? { ...t, shape } : t));
    const shape = writeTiny(reshaped("head.out.weight", [2564, 8]));
    await expect(readVocosWeights(shape)).rejects.toThrow(
      `${shape}: tensor 'head.out.weight' has shape [2564,8], expected [1282,16]`,
    );
    const kernel = writeTiny(reshaped("backbone.convnext.0.dwconv.weight", [16, 7, 1]));
    await expect(readVocosWeights(kernel)).rejects.toThrow(
      `${kernel}: tensor 'backbone.convnext.0.dwconv.weight' has shape [16,7,1], expected [16,1,7]`,
    );
    const rank = writeTiny(reshaped("backbone.embed.weight", [16, 56]));
    await expect(readVocosWeights(rank)).rejects.toThrow(
      `${rank}: tensor 'backbone.embed.weight' has shape [16,56], expected [dim, input_channels, 7]`,
    );
    const gap = writeTiny((t) => t.map((x) => ({ ...x, name: x.name.replace("convnext.1.", "convnext.2.") })));
    await expect(readVocosWeights(gap)).rejects.toThrow(
      `${gap}: the tensors of ConvNeXt block backbone.convnext.1 are missing (blocks up to 2 are present)`,
    );
    const window = writeTiny((t) =>
      t.map((x) =>
        x.name === "head.istft.window"
          ? { ...x, shape: [1024], data: x.data.subarray(0, 1024) }
          : x.name.startsWith("head.out.")
            ? { ...x, shape: [1026, ...x.shape.slice(1)], data: x.data.subarray(0, (x.data.length / 1282) * 1026) }
            : x,
      ),
    );
    await expect(readVocosWeights(window)).rejects.toThrow(
      `${window}: tensor 'head.istft.window' has 1024 values (n_fft 1024), expected 1280 (n_fft = 4 × hop 320: EnCodec's 75 Hz frames)`,
    );
    const book = writeTiny((t) =>
      t.map((x) =>
        x.name === "feature_extractor.codebook_weights"
          ? { ...x, shape: [1000, 8], data: x.data.subarray(0, 8000) }
          : x,
      ),
    );
    await expect(readVocosWeights(book)).rejects.toThrow(
      `${book}: tensor 'feature_extractor.codebook_weights' has shape [1000,8], expected [codebooks × 1024, input_channels] (1024 codes per codebook)`,
    );
  });

  it("a non-finite value, an f64 or integer dtype, a non-contiguous tensor", async () => {
    const nan = writeTiny((t) =>
      t.map((x) => {
        if (x.name !== "backbone.convnext.0.pwconv1.weight") return x;
        const data = x.data.slice();
        data[5] = Number.NaN;
        return { ...x, data };
      }),
    );
    await expect(readVocosWeights(nan)).rejects.toThrow(
      `${nan}: tensor 'backbone.convnext.0.pwconv1.weight' holds a non-finite value (NaN at index 5)`,
    );
    const dir = tempDir("vocos-bad-");
    const zip = encodeTorchStateDict(randomVocos().tensors);
    for (const [storage, dtype, size] of [
      ["DoubleStorage", "F64", 8],
      ["LongStorage", "I64", 8],
    ] as const) {
      const path = join(dir, `${dtype}.pt`);
      writeFileSync(
        path,
        editZip(zip, (files) => {
          const out: Record<string, Uint8Array> = {};
          for (const [name, data] of Object.entries(files)) {
            if (name === "archive/data.pkl")
              out[name] = replaceBytes(data, "torch\nFloatStorage\n", `torch\n${storage}\n`);
            else if (name.includes("/data/")) out[name] = new Uint8Array((data.length / 4) * size);
            else out[name] = data;
          }
          return out;
        }),
      );
      await expect(readVocosWeights(path)).rejects.toThrow(
        `${path}: tensor 'feature_extractor.codebook_weights' has dtype ${dtype} (torch.${storage}), expected F32, F16 or BF16`,
      );
    }
    const { tensors } = randomVocos();
    for (const dtype of ["F64", "I64"]) {
      const path = join(dir, `${dtype}.safetensors`);
      writeFileSync(
        path,
        safetensors(
          tensors.map((t) =>
            t.name === "backbone.embed.bias" ? { ...t, dtype, raw: new Uint8Array(8 * t.data.length) } : t,
          ),
        ),
      );
      await expect(readVocosWeights(path)).rejects.toThrow(
        `${path}: tensor 'backbone.embed.bias' has dtype ${dtype}, expected F32, F16 or BF16`,
      );
    }
    // backbone.embed.weight [16, 8, 7] with stride (57, 7, 1) instead of (56, 7, 1).
    const strided = join(dir, "strided.pt");
    writeFileSync(
      strided,
      editZip(zip, (files) => ({
        ...files,
        "archive/data.pkl": replaceBytes(
          files["archive/data.pkl"] as Uint8Array,
          Uint8Array.from([0x4b, 56, 0x4b, 7, 0x4b, 1, 0x87]),
          Uint8Array.from([0x4b, 57, 0x4b, 7, 0x4b, 1, 0x87]),
        ),
      })),
    );
    await expect(readVocosWeights(strided)).rejects.toThrow(
      `${strided}: tensor 'backbone.embed.weight' is not contiguous (shape [16,8,7], stride [57,7,1]); save it after .contiguous()`,
    );
    expect((await readTorchStateDict(writeTiny())).get("backbone.embed.weight")?.shape).toEqual([16, 8, 7]);
  });

  it("a config.yaml that does not match the weights, naming the field and both values", async () => {
    const dir = tempDir("vocos-config-");
    const path = join(dir, "model.pt");
    await writeRandomVocos(path, { seed: 3 });
    const yaml = vocosConfigYaml(TINY_VOCOS_CONFIG);
    const config = join(dir, "config.yaml");
    const cases: [string, string, string][] = [
      [
        "dim: 16\n    intermediate",
        "dim: 32\n    intermediate",
        "backbone.init_args.dim is 32, the weights have 16 (backbone.embed.weight [16, 8, 7])",
      ],
      [
        "input_channels: 8",
        "input_channels: 128",
        "backbone.init_args.input_channels is 128, the weights have 8 (backbone.embed.weight [16, 8, 7])",
      ],
      [
        "intermediate_dim: 48",
        "intermediate_dim: 64",
        "backbone.init_args.intermediate_dim is 64, the weights have 48 (backbone.convnext.0.pwconv1.weight)",
      ],
      [
        "adanorm_num_embeddings: 4",
        "adanorm_num_embeddings: 3",
        "backbone.init_args.adanorm_num_embeddings is 3, the weights have 4 (backbone.norm.scale.weight)",
      ],
      [
        "    dim: 16\n    n_fft",
        "    dim: 8\n    n_fft",
        "head.init_args.dim is 8, the weights have 16 (head.out.weight [1282, 16])",
      ],
      ["n_fft: 1280", "n_fft: 1024", "head.init_args.n_fft is 1024, the weights have 1280 (head.istft.window [1280])"],
      [
        "hop_length: 320",
        "hop_length: 256",
        "head.init_args.hop_length is 256, expected 320 (EnCodec's 75 Hz frames at 24 kHz)",
      ],
      [
        "    hop_length: 320\n",
        "",
        "head.init_args.hop_length is missing, expected 320 (EnCodec's 75 Hz frames at 24 kHz)",
      ],
      [
        "padding: same",
        "padding: center",
        'head.init_args.padding is "center", expected "same" (the ISTFT head of this model uses "same" padding)',
      ],
      [
        "[1.5, 3.0, 6.0, 12.0]",
        "[1.5, 3.0, 6.0]",
        "feature_extractor.init_args.bandwidths is [1.5,3,6], expected [1.5, 3.0, 6.0, 12.0] (bandwidth_id 0…3)",
      ],
      [
        "vocos.heads.ISTFTHead",
        "vocos.heads.VocosResNetHead",
        'head.class_path is "vocos.heads.VocosResNetHead", expected "vocos.heads.ISTFTHead"',
      ],
      [
        "encodec_model: encodec_24khz",
        "encodec_model: encodec_48khz",
        'feature_extractor.init_args.encodec_model is "encodec_48khz", expected "encodec_24khz" (EnCodec 24 kHz)',
      ],
      ["backbone:\n", "backbone_:\n", "backbone is missing, expected a mapping"],
      ["padding: same", "padding: [same", "not YAML ("],
    ];
    for (const [from, to, message] of cases) {
      expect(yaml.includes(from), from).toBe(true);
      writeFileSync(config, yaml.replace(from, to));
      await expect(readVocosWeights(path), message).rejects.toThrow(`${config}: ${message}`);
    }
    // An explicit config file wins over the one beside the weights; a missing explicit one is an error.
    writeFileSync(config, yaml.replace("num_layers: 2", "num_layers: 3"));
    const good = join(tempDir("vocos-config-"), "config.yaml");
    writeFileSync(good, yaml);
    expect((await readVocosWeights(path, { config: good })).config).toEqual(TINY_VOCOS_CONFIG);
    await expect(readVocosWeights(path)).rejects.toThrow(
      `${config}: backbone.init_args.num_layers is 3, the weights have 2 (backbone.convnext.N blocks)`,
    );
    await expect(readVocosWeights(path, { config: join(dir, "none.yaml") })).rejects.toMatchObject({
      code: "ERR_FILE_NOT_FOUND",
    });
  });
});
