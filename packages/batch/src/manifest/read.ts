/**
 * Reading a manifest (JSON Lines: one item per line; blank lines are skipped): every line parsed and checked, ids
 * unique, voices resolved — into jobs, and the lines that cannot be done with their line numbers and reasons.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { VallEError } from "@vall-e/pipeline";
import { type BatchJob, makeJob } from "../job.js";
import { VoiceResolver, type VoiceSource } from "../voices.js";
import { type LineFailure, parseManifestLine } from "./item.js";

export interface Manifest {
  /** The manifest file, absolute. */
  path: string;
  /** The lines that can be done, in order. */
  jobs: BatchJob[];
  /** The lines that cannot, in order. */
  failures: LineFailure[];
}

export interface ReadManifestOptions {
  /** The voice library's folder (for lines whose voice is a voice id or name). */
  voicesDir?: string;
}

/** Read and check a manifest; only a manifest that cannot be read at all throws. */
export async function readManifest(path: string, options: ReadManifestOptions = {}): Promise<Manifest> {
  const absolute = resolve(path);
  const info = await stat(absolute).catch((error: NodeJS.ErrnoException) => {
    throw new VallEError(
      error.code === "ENOENT" ? "ERR_FILE_NOT_FOUND" : "ERR_FILE_READ",
      error.code === "ENOENT" ? `Manifest not found: ${path}` : `Cannot read manifest ${path}: ${error.message}`,
      { cause: error },
    );
  });
  if (!info.isFile()) throw new VallEError("ERR_USAGE", `The manifest ${path} is not a file`);
  const resolver = new VoiceResolver({
    baseDir: dirname(absolute),
    ...(options.voicesDir === undefined ? {} : { voicesDir: options.voicesDir }),
  });
  const jobs: BatchJob[] = [];
  const failures: LineFailure[] = [];
  const seen = new Map<string, number>();
  const lines = createInterface({ input: createReadStream(absolute, "utf8"), crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  for await (const raw of lines) {
    number++;
    const text = number === 1 ? raw.replace(/^\uFEFF/, "") : raw;
    if (text.trim() === "") continue;
    const parsed = parseManifestLine(text, number);
    const id = parsed.ok ? parsed.value.id : parsed.id;
    const first = id === undefined ? undefined : seen.get(id);
    if (id !== undefined && first !== undefined) {
      failures.push({
        line: number,
        id,
        code: "ERR_MANIFEST_ID",
        message: `The id ${JSON.stringify(id)} is also on line ${first}: ids must be unique`,
      });
      continue;
    }
    if (id !== undefined) seen.set(id, number);
    if (!parsed.ok) {
      const { ok: _ok, ...failure } = parsed;
      failures.push(failure);
      continue;
    }
    const item = parsed.value;
    let voice: VoiceSource | undefined;
    try {
      voice = item.voice === undefined ? undefined : await resolver.resolve(item.voice);
    } catch (error) {
      const { code, message } = error as VallEError;
      failures.push({ line: number, id: item.id, code: typeof code === "string" ? code : "ERR_INTERNAL", message });
      continue;
    }
    jobs.push(makeJob(item, voice));
  }
  return { path: absolute, jobs, failures };
}
