/**
 * `vall-e inspect` on everything vall-e writes — the tiny bundle's GGUF, Vocos and EnCodec weights and tokenizer.json, a
 * run.json, codes and their sidecars, logits and other .npy — and the --json summaries of encode / decode; anything
 * else, or an invalid file of any kind, is one usage error naming it.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { encodeEncodecBin, encodeNpy, parseEncodecBin } from "@vall-e/codec";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_OK, EXIT_USAGE } from "../src/exit-codes.js";
import { offlineEnv, vallE, writeSineWav } from "./processes.js";

const dir = tempDir("cli-inspect-");
const env = offlineEnv(dir);
const tiny = join(dir, "cache", "vall-e", "tiny");

beforeAll(async () => {
  const pulled = await vallE(["models", "pull", "--tiny"], env);
  expect(pulled.code, pulled.stderr).toBe(EXIT_OK);
});

describe("vall-e inspect", () => {
  it("describes a VALL-E GGUF (loaded and validated)", async () => {
    const run = await vallE(["inspect", join(tiny, "vall_e-tiny.gguf"), "--json"], env);
    expect(run.code, run.stderr).toBe(EXIT_OK);
    expect(JSON.parse(run.stdout)).toMatchObject({
      kind: "gguf",
      layers: 2,
      width: 64,
      vocabulary: 17702,
      weightType: "F16",
      outputBiases: true,
    });
  });

  it("describes Vocos weights and a run.json", async () => {
    const vocos = await vallE(["inspect", join(tiny, "vocos-tiny.pt"), "--json"], env);
    expect(JSON.parse(vocos.stdout)).toMatchObject({
      kind: "vocos-weights",
      config: { layers: 2, dim: 16, nFft: 1280, codebooks: 16 },
    });
    const artifacts = join(dir, "run");
    const tts = await vallE(["tts", "Hi.", "--model", "tiny", "-o", join(dir, "a.wav"), "--artifacts", artifacts], env);
    expect(tts.code, tts.stderr).toBe(EXIT_OK);
    const run = await vallE(["inspect", join(artifacts, "run.json")], env);
    expect(run.stdout).toMatch(/^run manifest: 1 sentence\(s\), task tts, decoder vocos, seed \d+\n/);
  });

  it("a damaged model is an error (exit 2, one line), not a description", async () => {
    const cut = join(dir, "cut.gguf");
    const bytes = readFileSync(join(tiny, "vall_e-tiny.gguf"));
    writeFileSync(cut, bytes.subarray(0, bytes.length - 1000));
    const run = await vallE(["inspect", cut], env);
    expect(run.code).toBe(EXIT_USAGE);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(new RegExp(`^error: ${cut} is truncated[^\n]*\n$`));
  });

  it("describes the tokenizer.json, loaded by the phonemizer's loader; an invalid one is refused with its message", async () => {
    const path = join(tiny, "tokenizer.json");
    const run = await vallE(["inspect", path], env);
    expect(run.code, run.stderr).toBe(EXIT_OK);
    expect(run.stdout).toMatch(
      /^tokenizer: Hugging Face tokenizer\.json \(BPE\), 148 ids \(148 strings, 0 aliases\), 0 merges\nspecial tokens: <unk> 0, <bos> 1, <\/eos> 2, <mask> 3\nfingerprint: tokenizer\.json#[0-9a-f]{16}\n$/,
    );
    const json = JSON.parse((await vallE(["inspect", path, "--json"], env)).stdout);
    expect(json).toMatchObject({
      kind: "tokenizer",
      vocabularySize: 148,
      vocabEntries: 148,
      aliases: 0,
      merges: 0,
      unknownToken: "<unk>",
      specialTokens: [
        { id: 0, content: "<unk>" },
        { id: 1, content: "<bos>" },
        { id: 2, content: "</eos>" },
        { id: 3, content: "<mask>" },
      ],
    });
    // The phonemizer's fingerprint: what the phoneme artifacts made with this tokenizer record.
    const phonemes = join(dir, "hi.phonemes.json");
    const phonemized = await vallE(["phonemize", "Hi.", "--lang", "en", "--tokenizer", "tiny", "-o", phonemes], env);
    expect(phonemized.code, phonemized.stderr).toBe(EXIT_OK);
    expect(JSON.parse(readFileSync(phonemes, "utf8")).tokenizer).toBe(json.fingerprint);

    const bad = join(dir, "bad", "tokenizer.json");
    mkdirSync(join(dir, "bad"), { recursive: true });
    const definition = JSON.parse(readFileSync(path, "utf8"));
    writeFileSync(bad, JSON.stringify({ ...definition, model: { ...definition.model, merges: [["a", "zz"]] } }));
    expect(await vallE(["inspect", bad], env)).toMatchObject({
      code: EXIT_USAGE,
      stdout: "",
      stderr: `error: ${bad}: Invalid tokenizer merges: merge 0 ("a zz") uses "zz", which is not in the vocabulary\n`,
    });
    writeFileSync(bad, JSON.stringify({ ...definition, model: { ...definition.model, merges: "none" } }));
    expect(await vallE(["inspect", bad], env)).toMatchObject({
      code: EXIT_USAGE,
      stdout: "",
      stderr: `error: Invalid tokenizer file ${bad}: expected model.merges to be an array\n`,
    });
  });

  it("a codes sidecar (.npy.json): what it describes, and whether its .npy is beside it and matches", async () => {
    const wav = writeSineWav(join(dir, "sine.wav"), 12000, 24000, 9);
    const codes = join(dir, "sine.codes.npy");
    const encoded = await vallE(["encode", wav, "-o", codes, "--codec", "tiny"], env);
    expect(encoded.code, encoded.stderr).toBe(EXIT_OK);
    const sidecar = `${codes}.json`;
    const run = await vallE(["inspect", sidecar], env);
    expect(run).toMatchObject({
      code: EXIT_OK,
      stdout: `codes sidecar (vall-e.codes/1): 8 codebooks × 38 frames (0.51 s at 75 Hz)\nsource: {"path":"sine.wav","sampleRate":24000,"samples":12000,"channels":1}\n${codes}: beside it, matches (8 × 38 codes)\n`,
    });
    expect(JSON.parse((await vallE(["inspect", sidecar, "--json"], env)).stdout)).toEqual({
      kind: "codes-sidecar",
      format: "vall-e.codes/1",
      sampleRate: 24000,
      frameRate: 75,
      codebooks: 8,
      frames: 38,
      source: { path: "sine.wav", sampleRate: 24000, samples: 12000, channels: 1 },
      npy: { path: codes, present: true, matches: true, codebooks: 8, frames: 38 },
    });
    const meta = JSON.parse(readFileSync(sidecar, "utf8"));
    writeFileSync(sidecar, JSON.stringify({ ...meta, frames: 40 }));
    expect((await vallE(["inspect", sidecar], env)).stdout).toContain(
      `${codes}: beside it, does not match: ${sidecar}: its metadata says frames 40, the codes have 38\n`,
    );
    // The codes themselves, with a sidecar that disagrees, are an invalid artifact.
    expect(await vallE(["inspect", codes], env)).toMatchObject({
      code: EXIT_USAGE,
      stdout: "",
      stderr: `error: ${sidecar}: its metadata says frames 40, the codes have 38\n`,
    });
    rmSync(codes);
    const missing = await vallE(["inspect", sidecar], env);
    expect(missing.code).toBe(EXIT_OK);
    expect(missing.stdout).toContain(`${codes}: missing (the codes this sidecar describes are not beside it)\n`);
    writeFileSync(sidecar, JSON.stringify({ format: "vall-e.phonemes/1" }));
    expect(await vallE(["inspect", sidecar], env)).toMatchObject({
      code: EXIT_USAGE,
      stderr: `error: ${sidecar}: not a codes sidecar (expected a JSON object with "format": "vall-e.codes/1", found "format": "vall-e.phonemes/1")\n`,
    });
  });

  it("logits of `vall-e lm forward`: shape, dtype, value statistics, NaN / Inf, argmax of the first rows", async () => {
    const input = join(dir, "case.json");
    writeFileSync(
      input,
      JSON.stringify({
        mode: "nar",
        phonemes: [1, 20, 21, 2],
        lang: "en",
        rvqLevel: 1,
        prompt: [[1, 2, 3]],
        response: [[4, 5, 6]],
      }),
    );
    const logits = join(dir, "logits.npy");
    const forward = await vallE(["lm", "forward", "--model", "tiny", "--input", input, "-o", logits], env);
    expect(forward.code, forward.stderr).toBe(EXIT_OK);
    const report = JSON.parse((await vallE(["inspect", logits, "--json"], env)).stdout);
    expect(report).toMatchObject({
      kind: "logits",
      format: "npy",
      dtype: "float32",
      shape: [3, 1024],
      rows: 3,
      columns: 1024,
      nan: 0,
      inf: 0,
    });
    expect(report.argmax).toHaveLength(3);
    const bytes = readFileSync(logits);
    const end = bytes.byteOffset + bytes.length;
    const values = new Float32Array(bytes.buffer.slice(end - 3 * 1024 * 4, end));
    for (const { row, index, value } of report.argmax) {
      const rowValues = values.subarray(row * 1024, (row + 1) * 1024);
      expect(value).toBe(Math.max(...rowValues));
      expect(rowValues[index]).toBe(value);
    }
    expect(report.min).toBe(Math.min(...values));
    expect(report.max).toBe(Math.max(...values));
    const human = await vallE(["inspect", logits], env);
    expect(human.stdout.split("\n")[0]).toBe("logits: float32 [3 × 1024] (3 row(s) of 1024 values)");

    const odd = join(dir, "odd.npy");
    writeFileSync(odd, encodeNpy(Float32Array.from([1, Number.NaN, -2, Number.POSITIVE_INFINITY, 0.5, 3]), [2, 3]));
    expect(await vallE(["inspect", odd], env)).toMatchObject({
      code: EXIT_OK,
      stdout:
        "logits: float32 [2 × 3] (2 row(s) of 3 values)\nvalues: min -2, max 3, mean 0.625000; 1 NaN, 1 Inf\nargmax of the first 2 row(s): 0 (1), 0 (Infinity)\n",
    });
  });

  it("plain .npy of other dtypes and shapes: dtype, shape, values; integers in codes' shape and range are codes", async () => {
    const ints = join(dir, "ints.npy");
    writeFileSync(ints, encodeNpy(Int32Array.from([0, 5000, 7, -1, 2, 3]), [2, 3]));
    expect(await vallE(["inspect", ints], env)).toMatchObject({
      code: EXIT_OK,
      stdout: "array: int32 [2 × 3] (.npy, 6 values)\nvalues: min -1, max 5000, mean 835.167\n",
    });
    const cube = join(dir, "cube.npy");
    writeFileSync(cube, encodeNpy(new Float32Array(8).fill(0.25), [2, 2, 2]));
    expect(JSON.parse((await vallE(["inspect", cube, "--json"], env)).stdout)).toEqual({
      kind: "array",
      format: "npy",
      dtype: "float32",
      shape: [2, 2, 2],
      values: 8,
      min: 0.25,
      max: 0.25,
      mean: 0.25,
      nan: 0,
      inf: 0,
    });
    const codes = join(dir, "bare-codes.npy");
    writeFileSync(
      codes,
      encodeNpy(
        Int16Array.from({ length: 16 }, (_, i) => i),
        [8, 2],
      ),
    );
    expect((await vallE(["inspect", codes], env)).stdout).toMatch(/^codes: 8 codebooks × 2 frames/);
    const bools = join(dir, "bools.npy");
    writeFileSync(
      bools,
      Buffer.from(encodeNpy(new Int16Array(4), [4]))
        .toString("latin1")
        .replace("<i2", "|b1"),
      "latin1",
    );
    expect(await vallE(["inspect", bools], env)).toMatchObject({
      code: EXIT_USAGE,
      stdout: "",
      stderr: `error: ${bools}: unsupported .npy dtype "|b1" (expected little-endian integers or floats)\n`,
    });
  });

  it("anything else, or an invalid artifact of any kind, is one message naming the file, exit 2", async () => {
    const encodec = readFileSync(join(tiny, "encodec.bin"));
    const bin = parseEncodecBin(encodec);
    const cases: [string, string | Buffer, string][] = [
      [
        "notes.txt",
        "hello\n",
        "not a file vall-e inspects (WAV audio, codes (.npy/.json/.enc) and their .npy.json sidecars, other .npy arrays (logits), .phonemes.json, run.json, tokenizer.json, a VALL-E GGUF, EnCodec or Vocos weights)",
      ],
      [
        "package.json",
        '{"name": "x"}',
        'not a vall-e artifact — JSON that is no codes (format vall-e.codes/1), phoneme artifact, run.json or tokenizer.json (it has no "format")',
      ],
      [
        "broken.json",
        "{",
        " is not JSON (a syntax error at byte 1): expected a vall-e JSON artifact (codes, phonemes, run.json, tokenizer.json)",
      ],
      ["x.phonemes.json", '{"format": "vall-e.phonemes/1"}', ""],
      [
        "codes.json",
        '{"format": "vall-e.codes/1", "codes": [[1, 2], [3]]}',
        '"codes" must be a non-empty array of equal-length arrays (one per codebook)',
      ],
      ["run.json", '{"format": "vall-e.run/1"}', '"inputs", "options" and "models" must be objects'],
      ["noise.wav", Buffer.concat([Buffer.from("RIFF"), Buffer.alloc(40)]), ""],
      ["not.npy", "plain text", " is not a NumPy .npy file (no \\x93NUMPY magic)"],
      ["cut.bin", encodec.subarray(0, 5000), " is truncated (the data of tensor 'encoder.model.9.conv.conv.weight')"],
      ["cut.pt", readFileSync(join(tiny, "vocos-tiny.pt")).subarray(0, 30000), ""],
      ["random.gguf", Buffer.concat([Buffer.from("GGUF"), Buffer.alloc(64, 7)]), ""],
    ];
    bin.tensors.delete("decoder.model.15.conv.conv.bias");
    cases.push(["missing.bin", Buffer.from(encodeEncodecBin(bin)), ""]);
    const nan = parseEncodecBin(encodec);
    nan.tensors.get("quantizer.vq.layers.0._codebook.embed")?.data.fill(Number.NaN);
    cases.push([
      "nan.bin",
      Buffer.from(encodeEncodecBin(nan)),
      ": tensor 'quantizer.vq.layers.0._codebook.embed' holds a non-finite value (NaN at index 0): damaged EnCodec weights",
    ]);
    mkdirSync(join(dir, "invalid"), { recursive: true });
    for (const [name, content, message] of cases) {
      const path = join(dir, "invalid", name);
      writeFileSync(path, content);
      const run = await vallE(["inspect", path, "--json"], env);
      expect(run.code, `${name}: ${run.stderr}`).toBe(EXIT_USAGE);
      expect(run.stdout, name).toBe("");
      expect(run.stderr, name).toMatch(/^error: [^\n]+\n$/);
      expect(run.stderr, name).toContain(path);
      if (message) expect(run.stderr, name).toContain(message.startsWith(" ") ? `${path}${message}` : message);
    }
    expect(await vallE(["inspect", join(dir, "invalid")], env)).toMatchObject({
      code: EXIT_USAGE,
      stderr: `error: File ${join(dir, "invalid")} is not a regular file (a folder)\n`,
    });
    expect(await vallE(["inspect", join(dir, "none.npy")], env)).toMatchObject({
      code: EXIT_USAGE,
      stderr: `error: File not found: ${join(dir, "none.npy")}\n`,
    });
  });

  it("encode and decode print a JSON summary with --json; a bad -o is refused before any work", async () => {
    const wav = join(dir, "a.wav");
    if (!existsSync(wav)) {
      const tts = await vallE(["tts", "Hi.", "--model", "tiny", "-o", wav], env);
      expect(tts.code, tts.stderr).toBe(EXIT_OK);
    }
    const codes = join(dir, "a.codes.npy");
    const encoded = await vallE(["encode", wav, "-o", codes, "--codec", "tiny", "--json"], env);
    expect(encoded.code, encoded.stderr).toBe(EXIT_OK);
    const summary = JSON.parse(encoded.stdout);
    expect(summary).toMatchObject({ output: codes, codebooks: 8 });
    const decoded = await vallE(["decode", codes, "-o", join(dir, "b.wav"), "--vocos", "tiny", "--json"], env);
    expect(JSON.parse(decoded.stdout)).toMatchObject({
      decoder: "vocos",
      codebooks: 8,
      frames: summary.frames,
      seconds: (summary.frames * 320) / 24000,
    });
    const bad = await vallE(["encode", wav, "-o", "/nonexistent/x.npy", "--codec", "tiny"], env);
    expect(bad).toMatchObject({
      code: EXIT_USAGE,
      stderr: "error: Cannot write /nonexistent/x.npy (-o): the folder /nonexistent does not exist\n",
    });
    const both = await vallE(["decode", codes, "-o", "-", "--vocos", "tiny", "--json"], env);
    expect(both.stderr).toBe("error: --json prints on stdout; write the WAV to a file (-o FILE)\n");
  });
});
