import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixture } from "@tooling/config/fixtures";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import {
  codesFromLevels,
  codesToLevels,
  createCodesArtifact,
  parseEnc,
  readCodes,
  writeCodes,
} from "../src/artifact/codes-artifact.js";
import { encodeNpyInt16, parseNpy } from "../src/artifact/npy.js";

const dir = () => tempDir("codes-");
const sample = createCodesArtifact(Int16Array.from([1, 2, 3, 1023, 0, 7]), 2, {
  source: { path: "voice.wav", sampleRate: 44100, samples: 1000, channels: 2 },
});

function npyWithHeader(header: string, data: Uint8Array): Uint8Array {
  const text = `${header}\n`;
  const out = new Uint8Array(10 + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, text.length, true);
  out.set(new TextEncoder().encode(text), 10);
  out.set(data, 10 + text.length);
  return out;
}

describe("codes as .npy", () => {
  it("writes int16 [codebooks, frames] in numpy's format, with a metadata sidecar, and reads it back", async () => {
    const path = join(dir(), "prompt.npy");
    await writeCodes(path, sample);
    const bytes = readFileSync(path);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerEnd = 10 + bytes.readUInt16LE(8);
    expect(headerEnd % 64).toBe(0);
    expect(bytes.subarray(10, headerEnd).toString("latin1").trim()).toBe(
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }",
    );
    expect(JSON.parse(readFileSync(`${path}.json`, "utf8"))).toEqual({
      format: "vall-e.codes/1",
      sampleRate: 24000,
      frameRate: 75,
      codebooks: 2,
      frames: 3,
      source: { path: "voice.wav", sampleRate: 44100, samples: 1000, channels: 2 },
    });
    expect(await readCodes(path)).toEqual(sample);
  });

  it("rejects the wrong dtype, rank or range, and a sidecar that disagrees", async () => {
    const d = dir();
    const floats = join(d, "f.npy");
    writeFileSync(
      floats,
      npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", new Uint8Array(8)),
    );
    await expect(readCodes(floats)).rejects.toThrow(`${floats}: codes must be integers, got dtype <f4`);
    const rank = join(d, "r.npy");
    writeFileSync(rank, encodeNpyInt16(new Int16Array(4), [4]));
    await expect(readCodes(rank)).rejects.toThrow(
      `${rank}: expected codes of shape [codebooks, frames] (or [1, codebooks, frames]), got (4)`,
    );
    const range = join(d, "o.npy");
    writeFileSync(range, encodeNpyInt16(Int16Array.from([5, 1024]), [1, 2]));
    await expect(readCodes(range)).rejects.toThrow(`${range}: code 1024 at codebook 0, frame 1 is outside 0 … 1023`);
    const negative = join(d, "n.npy");
    writeFileSync(negative, encodeNpyInt16(Int16Array.from([5, -1]), [2, 1]));
    await expect(readCodes(negative)).rejects.toThrow(
      `${negative}: code -1 at codebook 1, frame 0 is outside 0 … 1023`,
    );
    const big = join(d, "big.npy");
    writeFileSync(big, encodeNpyInt16(new Int16Array(33), [33, 1]));
    await expect(readCodes(big)).rejects.toThrow(`${big}: expected 1 to 32 codebooks, got 33`);
    const mismatch = join(d, "m.npy");
    await writeCodes(mismatch, sample);
    writeFileSync(`${mismatch}.json`, JSON.stringify({ format: "vall-e.codes/1", frames: 9 }));
    await expect(readCodes(mismatch)).rejects.toThrow(`${mismatch}.json: its metadata says frames 9, the codes have 3`);
    const truncated = join(d, "t.npy");
    writeFileSync(truncated, encodeNpyInt16(new Int16Array(8), [2, 4]).subarray(0, 134));
    await expect(readCodes(truncated)).rejects.toThrow(
      `${truncated} is truncated: shape (2, 4) needs 16 bytes of data, 6 present`,
    );
    writeFileSync(join(d, "x.npy"), "not numpy");
    await expect(readCodes(join(d, "x.npy"))).rejects.toThrow(
      `${join(d, "x.npy")} is not a NumPy .npy file (no \\x93NUMPY magic)`,
    );
  });

  it("reads numpy's int32 arrays (the golden fixtures)", async () => {
    const golden = fixture("encodec", "golden_random_codes_seed7.npy");
    if (!golden.present) return;
    const array = parseNpy(readFileSync(golden.path), "golden");
    expect(array).toMatchObject({ dtype: "<i4", shape: [8, 150] });
  });
});

describe("codes as .json", () => {
  it("round-trips, one line per codebook", async () => {
    const path = join(dir(), "codes.json");
    await writeCodes(path, sample);
    const text = readFileSync(path, "utf8");
    expect(text).toContain('"codes": [\n    [1, 2, 3],\n    [1023, 0, 7]\n  ]');
    expect(await readCodes(path)).toEqual(sample);
    writeFileSync(path, JSON.stringify({ format: "vall-e.codes/2", codes: [[1]] }));
    await expect(readCodes(path)).rejects.toThrow(
      `${path}: unsupported format "vall-e.codes/2" (expected "vall-e.codes/1")`,
    );
    writeFileSync(path, JSON.stringify({ format: "vall-e.codes/1", codes: [[1, 2], [3]] }));
    await expect(readCodes(path)).rejects.toThrow(
      `${path}: "codes" must be a non-empty array of equal-length arrays (one per codebook)`,
    );
  });

  it("never leaves a half-written file", async () => {
    const d = dir();
    await expect(writeCodes(join(d, "nope", "a.json"), sample)).rejects.toMatchObject({ code: "ERR_FILE_WRITE" });
    await expect(writeCodes(join(d, "a.wav"), sample)).rejects.toThrow(
      `${join(d, "a.wav")}: codes are written as .npy or .json`,
    );
    expect(readdirSync(d)).toEqual([]);
  });
});

describe(".enc files of the Python tooling", () => {
  const qnt = fixture("vall-e", "qnt.enc");
  const noise = fixture("vall-e", "noise.enc");

  it.skipIf(!qnt.present)(`reads qnt.enc: 8 × 173 codes and its metadata ${qnt.reason}`, async () => {
    const codes = await readCodes(qnt.path);
    expect(codes).toMatchObject({
      codebooks: 8,
      frames: 173,
      source: { sampleRate: 44100, samples: 101295 },
      phonemes: "wˈʌns ɐɡˈɛn, ˈɛksələnt wˈɜːk.",
      language: "en",
    });
    expect(Math.ceil((101295 * 24000) / 44100 / 320)).toBe(173);
  });

  it.skipIf(!noise.present)(`reads noise.enc ${noise.reason}`, async () => {
    const codes = await readCodes(noise.path);
    expect(codes.codebooks).toBe(8);
    expect(codes.source?.sampleRate).toBe(16000);
  });

  it("refuses any pickle that names a function other than numpy's array builders", () => {
    const header = "{'descr': '|O', 'fortran_order': False, 'shape': (), }";
    // GLOBAL os.system, a string, TUPLE1, REDUCE, STOP: the classic pickle exploit.
    const pickle = new Uint8Array([
      0x80,
      0x03,
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
    expect(() => parseEnc(npyWithHeader(header, pickle), "evil.enc")).toThrow(
      "evil.enc: unexpected pickle global 'os.system' (only numpy arrays are accepted)",
    );
    expect(() => parseEnc(npyWithHeader(header, new Uint8Array([0x80, 0x03, 0x7d])), "cut.enc")).toThrow(
      "cut.enc: the pickle is truncated",
    );
    expect(() =>
      parseEnc(npyWithHeader("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(4)), "i.enc"),
    ).toThrow("i.enc: an .enc file holds a 0-d object array, got dtype <i2 shape (2)");
  });
});

describe("codes per codebook", () => {
  it("codesToLevels and codesFromLevels convert both ways, checking lengths and ranges", () => {
    const levels = [
      [1, 2, 3],
      [4, 5, 1023],
    ];
    const artifact = codesFromLevels(levels, { text: "hi" });
    expect([artifact.codebooks, artifact.frames, artifact.text]).toEqual([2, 3, "hi"]);
    expect(Array.from(artifact.codes)).toEqual([1, 2, 3, 4, 5, 1023]);
    expect(codesToLevels(artifact)).toEqual(levels);
    expect(() => codesFromLevels([[1, 2], [3]], {}, "x")).toThrow("x: every codebook needs 2 frames");
    expect(() => codesFromLevels([[1024]], {}, "x")).toThrow("x: code 1024 at codebook 0, frame 0 is outside 0 … 1023");
  });
});
