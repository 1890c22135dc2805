/**
 * CodesArtifact (format in this package's README): EnCodec codes [codebooks × frames] (codebook-major, 0 … 1023) with
 * their metadata. Written as .npy (int16, C order, shape [codebooks, frames] — numpy.load reads it) plus a
 * `<file>.json` sidecar for the metadata, or as one .json for reading by eye. The Python tooling's .enc files are read
 * too. Every reader validates shape, dtype and range; every writer is atomic.
 */
import { extname } from "node:path";
import { describeValue, jsonErrorPosition, readRegularFile, VallEError, writeOutputFile } from "@vall-e/core";
import { CODEBOOK_SIZE, FRAME_RATE, SAMPLE_RATE } from "../encodec.js";
import { CodesFormatError, fileWriteError } from "../errors.js";
import { encodeNpyInt16, parseNpy, parseNpyHeader } from "./npy.js";
import { PickledArray, unpickleNumpy } from "./pickle.js";

export const CODES_ARTIFACT_FORMAT = "vall-e.codes/1";
export const MAX_CODEBOOKS = 32;

export interface CodesSource {
  /** The audio file the codes came from. */
  path?: string;
  /** Its sample rate and length in samples, before resampling to 24 kHz. */
  sampleRate?: number;
  samples?: number;
  channels?: number;
}

export interface CodesArtifact {
  format: typeof CODES_ARTIFACT_FORMAT;
  sampleRate: typeof SAMPLE_RATE;
  frameRate: typeof FRAME_RATE;
  codebooks: number;
  frames: number;
  /** [codebooks × frames], codebook-major. */
  codes: Int16Array;
  source?: CodesSource;
  /** Text metadata the Python tooling stores in .enc files. */
  text?: string;
  phonemes?: string;
  language?: string;
}

/** A validated artifact from codes [codebooks × frames]. */
export function createCodesArtifact(
  codes: Int16Array,
  codebooks: number,
  extra: Pick<CodesArtifact, "source" | "text" | "phonemes" | "language"> = {},
  source = "codes",
): CodesArtifact {
  if (!Number.isInteger(codebooks) || codebooks < 1 || codebooks > MAX_CODEBOOKS) {
    throw new CodesFormatError(`${source}: expected 1 to ${MAX_CODEBOOKS} codebooks, got ${codebooks}`);
  }
  if (codes.length === 0 || codes.length % codebooks !== 0) {
    throw new CodesFormatError(
      `${source}: expected codebooks × frames codes with at least one frame, got ${codes.length} for ${codebooks} codebooks`,
    );
  }
  const frames = codes.length / codebooks;
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] as number;
    if (code < 0 || code >= CODEBOOK_SIZE) {
      throw new CodesFormatError(
        `${source}: code ${code} at codebook ${Math.floor(i / frames)}, frame ${i % frames} is outside 0 … ${CODEBOOK_SIZE - 1}`,
      );
    }
  }
  return {
    format: CODES_ARTIFACT_FORMAT,
    sampleRate: SAMPLE_RATE,
    frameRate: FRAME_RATE,
    codebooks,
    frames,
    codes,
    ...extra,
  };
}

/** The codes as one array per codebook (levels × frames), as the language model takes and gives them. */
export function codesToLevels(artifact: Pick<CodesArtifact, "codes" | "codebooks" | "frames">): number[][] {
  return Array.from({ length: artifact.codebooks }, (_, q) =>
    Array.from(artifact.codes.subarray(q * artifact.frames, (q + 1) * artifact.frames)),
  );
}

/** An artifact from codes given per codebook (levels × frames, equal lengths), range-checked. */
export function codesFromLevels(
  levels: readonly (readonly number[])[],
  extra: Pick<CodesArtifact, "source" | "text" | "phonemes" | "language"> = {},
  source = "codes",
): CodesArtifact {
  const frames = levels[0]?.length ?? 0;
  if (!levels.every((level) => level.length === frames)) {
    throw new CodesFormatError(`${source}: every codebook needs ${frames} frames`);
  }
  const codes = new Int16Array(levels.length * frames);
  levels.forEach((level, q) => {
    codes.set(level, q * frames);
  });
  return createCodesArtifact(codes, levels.length, extra, source);
}

/** Codes from a numeric array of shape [K, T] or [1, K, T], range-checked. */
function fromArray(
  shape: number[],
  values: ArrayLike<number>,
  source: string,
): { codes: Int16Array; codebooks: number } {
  const dims = shape.length === 3 && shape[0] === 1 ? shape.slice(1) : shape;
  if (dims.length !== 2) {
    throw new CodesFormatError(
      `${source}: expected codes of shape [codebooks, frames] (or [1, codebooks, frames]), got (${shape.join(", ")})`,
    );
  }
  const codes = new Int16Array(values.length);
  const frames = dims[1] as number;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (!Number.isInteger(value) || value < 0 || value >= CODEBOOK_SIZE) {
      const at = `codebook ${Math.floor(i / frames)}, frame ${i % frames}`;
      throw new CodesFormatError(
        typeof value === "number"
          ? `${source}: code ${value} at ${at} is outside 0 … ${CODEBOOK_SIZE - 1}`
          : `${source}: the code at ${at} is ${typeof value === "string" ? "a string" : describeValue(value)}, not an integer from 0 to ${CODEBOOK_SIZE - 1}`,
      );
    }
    codes[i] = value;
  }
  return { codes, codebooks: dims[0] as number };
}

function metadataFrom(
  value: unknown,
  source: string,
): Pick<CodesArtifact, "source" | "text" | "phonemes" | "language"> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null)
    throw new CodesFormatError(`${source}: the metadata must be a JSON object`);
  const meta = value as Record<string, unknown>;
  if (meta.format !== undefined && meta.format !== CODES_ARTIFACT_FORMAT) {
    throw new CodesFormatError(
      `${source}: ${meta.format === undefined ? 'no "format" field' : `unsupported format ${describeValue(meta.format)}`} (expected "${CODES_ARTIFACT_FORMAT}")`,
    );
  }
  if (meta.sampleRate !== undefined && meta.sampleRate !== SAMPLE_RATE) {
    throw new CodesFormatError(`${source}: codes at ${meta.sampleRate} Hz are not EnCodec 24 kHz codes`);
  }
  const out: Pick<CodesArtifact, "source" | "text" | "phonemes" | "language"> = {};
  if (meta.source !== undefined) {
    if (typeof meta.source !== "object" || meta.source === null)
      throw new CodesFormatError(`${source}: "source" must be an object`);
    out.source = meta.source as CodesSource;
  }
  for (const key of ["text", "phonemes", "language"] as const) {
    if (meta[key] !== undefined) {
      if (typeof meta[key] !== "string") throw new CodesFormatError(`${source}: "${key}" must be a string`);
      out[key] = meta[key] as string;
    }
  }
  return out;
}

function checkCounts(artifact: CodesArtifact, meta: Record<string, unknown>, source: string): void {
  for (const key of ["codebooks", "frames"] as const) {
    if (meta[key] !== undefined && meta[key] !== artifact[key]) {
      throw new CodesFormatError(`${source}: its metadata says ${key} ${meta[key]}, the codes have ${artifact[key]}`);
    }
  }
}

/** The largest codes file read (an hour of 32 codebooks as JSON is well below it). */
export const MAX_CODES_FILE_BYTES = 256 * 2 ** 20;
/** The largest `.npy.json` sidecar read (its text, phonemes and counts; a few kB). */
const MAX_SIDECAR_BYTES = 16 * 2 ** 20;
/** The most frames a codes file may hold unless the caller allows more: one hour at 75 frames/s. */
export const MAX_CODE_FRAMES = 75 * 3600;

async function read(path: string): Promise<Buffer> {
  return readRegularFile(path, "Codes file", MAX_CODES_FILE_BYTES); // a FIFO or /dev/zero is refused, not read
}

export interface ReadCodesOptions {
  /** Frames allowed at most (default MAX_CODE_FRAMES, one hour): longer codes are refused before any work. */
  maxFrames?: number;
}

export async function readCodes(path: string, options: ReadCodesOptions = {}): Promise<CodesArtifact> {
  const maxFrames = options.maxFrames ?? MAX_CODE_FRAMES;
  const extension = extname(path).toLowerCase();
  let artifact: CodesArtifact;
  if (extension === ".npy") artifact = await readCodesNpy(path);
  else if (extension === ".json") artifact = await readCodesJson(path);
  else if (extension === ".enc") artifact = parseEnc(await read(path), path);
  else {
    // A usage error, like a file that is not there: the name says it is not a codes file.
    throw new VallEError("ERR_USAGE", `${path}: not a codes file by its name (expected .npy, .json or .enc)`);
  }
  if (artifact.frames > maxFrames) {
    throw new CodesFormatError(
      `${path} holds ${artifact.frames} frames (${(artifact.frames / FRAME_RATE / 60).toFixed(1)} min): more than the ${maxFrames} (${(maxFrames / FRAME_RATE / 60).toFixed(1)} min) allowed (--max-frames raises it)`,
    );
  }
  return artifact;
}

async function readCodesNpy(path: string): Promise<CodesArtifact> {
  const array = parseNpy(await read(path), path);
  if (array.dtype.includes("f"))
    throw new CodesFormatError(`${path}: codes must be integers, got dtype ${array.dtype}`);
  const { codes, codebooks } = fromArray(array.shape, array.data, path);
  // The sidecar beside it (`<codes>.npy.json`), when there is one: a regular file of bounded size, like the codes.
  const sidecar = `${path}.json`;
  let meta: Record<string, unknown> = {};
  let text: string | undefined;
  try {
    text = (await readRegularFile(sidecar, "Codes sidecar", MAX_SIDECAR_BYTES)).toString("utf8");
  } catch (error) {
    if ((error as VallEError).code !== "ERR_FILE_NOT_FOUND") throw error;
  }
  if (text !== undefined) {
    try {
      meta = JSON.parse(text);
    } catch (error) {
      throw new CodesFormatError(`${sidecar}: not JSON${jsonErrorPosition(error)}`, { cause: error });
    }
  }
  const artifact = createCodesArtifact(codes, codebooks, metadataFrom(meta, `${path}.json`), path);
  checkCounts(artifact, meta, `${path}.json`);
  return artifact;
}

async function readCodesJson(path: string): Promise<CodesArtifact> {
  let value: unknown;
  try {
    value = JSON.parse((await read(path)).toString("utf8"));
  } catch (error) {
    if (error instanceof VallEError) throw error;
    throw new CodesFormatError(`${path}: not JSON${jsonErrorPosition(error)}`, { cause: error });
  }
  if (typeof value !== "object" || value === null) throw new CodesFormatError(`${path}: expected a JSON object`);
  const meta = value as Record<string, unknown>;
  if (meta.format !== CODES_ARTIFACT_FORMAT) {
    throw new CodesFormatError(
      `${path}: ${meta.format === undefined ? 'no "format" field' : `unsupported format ${describeValue(meta.format)}`} (expected "${CODES_ARTIFACT_FORMAT}")`,
    );
  }
  const rows = meta.codes;
  if (
    !Array.isArray(rows) ||
    rows.length === 0 ||
    !rows.every((row) => Array.isArray(row) && row.length === (rows[0] as unknown[]).length)
  ) {
    throw new CodesFormatError(`${path}: "codes" must be a non-empty array of equal-length arrays (one per codebook)`);
  }
  const { codes, codebooks } = fromArray(
    [rows.length, (rows[0] as unknown[]).length],
    (rows as number[][]).flat(),
    path,
  );
  const artifact = createCodesArtifact(codes, codebooks, metadataFrom(meta, path), path);
  checkCounts(artifact, meta, path);
  return artifact;
}

/** Parse a .enc file (NumPy object array holding a pickled dict; `vall_e/emb/process.py` `process_job`). */
export function parseEnc(bytes: Uint8Array, source: string): CodesArtifact {
  const header = parseNpyHeader(bytes, source);
  if (header.descr !== "|O" || header.shape.length !== 0) {
    throw new CodesFormatError(
      `${source}: an .enc file holds a 0-d object array, got dtype ${header.descr} shape (${header.shape.join(", ")})`,
    );
  }
  const root = unpickleNumpy(bytes.subarray(header.dataOffset), source);
  const dict = root instanceof PickledArray && Array.isArray(root.data) ? root.data[0] : root;
  if (!(dict instanceof Map))
    throw new CodesFormatError(`${source}: expected a pickled dict with "codes" and "metadata"`);
  const array = dict.get("codes");
  if (!(array instanceof PickledArray) || !(array.data instanceof Uint8Array)) {
    throw new CodesFormatError(`${source}: "codes" must be a numpy integer array`);
  }
  const sizes: Record<string, number> = { "<u2": 2, "<i2": 2, "<i4": 4, "<u4": 4, "<i8": 8 };
  const size = sizes[array.descr];
  if (!size) throw new CodesFormatError(`${source}: "codes" has dtype ${array.descr}, expected little-endian integers`);
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (array.data.length !== count * size)
    throw new CodesFormatError(`${source}: "codes" holds ${array.data.length} bytes, its shape needs ${count * size}`);
  const view = new DataView(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const values = Array.from({ length: count }, (_, i) => {
    switch (array.descr) {
      case "<u2":
        return view.getUint16(i * 2, true);
      case "<i2":
        return view.getInt16(i * 2, true);
      case "<u4":
        return view.getUint32(i * 4, true);
      case "<i4":
        return view.getInt32(i * 4, true);
      default:
        return Number(view.getBigInt64(i * 8, true));
    }
  });
  if (values.every((value) => value === 0)) throw new CodesFormatError(`${source}: "codes" holds only zeros`);
  const { codes, codebooks } = fromArray(array.shape, values, source);
  const metadata = dict.get("metadata");
  const extra: Pick<CodesArtifact, "source" | "text" | "phonemes" | "language"> = {};
  if (metadata instanceof Map) {
    const number = (key: string) => (typeof metadata.get(key) === "number" ? (metadata.get(key) as number) : undefined);
    const sourceInfo: CodesSource = {};
    const rate = number("sample_rate");
    const length = number("original_length");
    if (rate !== undefined) sourceInfo.sampleRate = rate;
    if (length !== undefined) sourceInfo.samples = length;
    if (Object.keys(sourceInfo).length) extra.source = sourceInfo;
    for (const key of ["text", "phonemes", "language"] as const) {
      if (typeof metadata.get(key) === "string") extra[key] = metadata.get(key) as string;
    }
  }
  return createCodesArtifact(codes, codebooks, extra, source);
}

/** The artifact's metadata as JSON (without the codes). */
function metadataJson(artifact: CodesArtifact): Record<string, unknown> {
  const { codes: _codes, ...meta } = artifact;
  return meta;
}

/** Write codes as .npy (+ `<path>.json` metadata sidecar) or .json, chosen by the extension; atomic. */
export async function writeCodes(path: string, artifact: CodesArtifact): Promise<void> {
  const checked = createCodesArtifact(artifact.codes, artifact.codebooks, artifact, path);
  const extension = extname(path).toLowerCase();
  try {
    if (extension === ".npy") {
      await writeOutputFile(`${path}.json`, `${JSON.stringify(metadataJson(checked), null, 2)}\n`);
      await writeOutputFile(path, encodeNpyInt16(checked.codes, [checked.codebooks, checked.frames]));
    } else if (extension === ".json") {
      await writeOutputFile(path, serializeCodesJson(checked));
    } else {
      throw new CodesFormatError(`${path}: codes are written as .npy or .json`);
    }
  } catch (error) {
    if (error instanceof VallEError) throw error;
    throw fileWriteError(path, error);
  }
}

/** The .json form: the metadata plus one array of codes per codebook. */
export function serializeCodesJson(artifact: CodesArtifact): string {
  const body = { ...metadataJson(artifact), codes: codesToLevels(artifact) };
  // One line per codebook: indented JSON with the number arrays kept on a line each.
  const text = JSON.stringify(body, null, 2).replace(
    /\[\n\s+([\d,\s]+?)\n\s+\]/g,
    (_, inner: string) => `[${inner.replace(/\s+/g, " ")}]`,
  );
  return `${text}\n`;
}
