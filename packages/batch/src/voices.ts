/**
 * Voices of a batch. A line's `voice` is an audio file (a path; relative to the manifest's folder), a voice of the
 * voice library (its id or name, as `vall-e voices` and `vall-e serve` store them), or `espeak:<voice>`. Each is
 * resolved once to a VoiceSource that names it by its content — a file by the SHA-256 of its bytes, a library voice by
 * the SHA-256 of its codes — so the same audio under another path is the same voice, and a changed file is not.
 * VoicePool prepares each distinct voice once (engine.prepareVoice) and keeps the most recent ones.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { type Engine, invalid, VallEError, type Voice } from "@vall-e/pipeline";

/** A voice, resolved: what a job carries (JSON). */
export type VoiceSource =
  | { kind: "file"; path: string; sha256: string }
  | { kind: "library"; id: string; name: string; sha256: string }
  | { kind: "espeak"; name: string };

/** A file-like voice: a path with a folder in it, or the extension of audio or codes. */
const PATH_LIKE = /[/\\]|\.(wav|wave|flac|mp3|ogg|oga|opus|npy|json|enc)$/i;

/** The library's voices: an id or a name → the voice (VoiceStore of @vall-e/server). */
export interface VoiceLibrary {
  readonly dir: string;
  find(idOrName: string): { meta: { id: string; name: string }; voice: Voice } | undefined;
}

/** The voice library in `dir` (default: VALL_E_VOICES_DIR or ~/.local/share/vall-e/voices), opened on first use. */
export async function openVoiceLibrary(dir?: string): Promise<VoiceLibrary> {
  const { VoiceStore, defaultVoicesDir } = await import("@vall-e/server");
  return VoiceStore.open(dir ?? defaultVoicesDir());
}

/** The SHA-256 of a library voice's codes. */
export function voiceChecksum(voice: Voice): string {
  return createHash("sha256").update(JSON.stringify(voice.references)).digest("hex");
}

async function fileChecksum(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}

export interface VoiceResolverOptions {
  /** Where relative paths are resolved: the manifest's folder. */
  baseDir: string;
  /** The voice library's folder (default: VALL_E_VOICES_DIR or ~/.local/share/vall-e/voices). */
  voicesDir?: string;
}

/** Resolves the `voice` of manifest lines, each path hashed once and the library opened once (when a line needs it). */
export class VoiceResolver {
  readonly #baseDir: string;
  readonly #voicesDir: string | undefined;
  readonly #files = new Map<string, Promise<string>>();
  #library: Promise<VoiceLibrary> | undefined;

  constructor(options: VoiceResolverOptions) {
    this.#baseDir = options.baseDir;
    this.#voicesDir = options.voicesDir;
  }

  /**
   * A line's voice as a VoiceSource: a file that exists; else, for a value that looks like a path, ERR_FILE_NOT_FOUND;
   * else a voice of the library, or ERR_VOICE_NOT_FOUND.
   */
  async resolve(value: string): Promise<VoiceSource> {
    if (value === "") throw invalid("an audio file path, or a voice id or name of the voice library", "voice", value);
    if (value.startsWith("espeak:")) return { kind: "espeak", name: value };
    const path = resolve(this.#baseDir, value);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile()) {
      let sum = this.#files.get(path);
      if (!sum) {
        sum = fileChecksum(path);
        this.#files.set(path, sum);
      }
      return { kind: "file", path, sha256: await sum };
    }
    if (info !== undefined) throw new VallEError("ERR_FILE_NOT_FOUND", `The voice ${path} is a folder, not a file`);
    if (PATH_LIKE.test(value)) throw new VallEError("ERR_FILE_NOT_FOUND", `Voice file not found: ${path}`);
    this.#library ??= openVoiceLibrary(this.#voicesDir);
    const library = await this.#library;
    const found = library.find(value);
    if (!found) {
      throw new VallEError(
        "ERR_VOICE_NOT_FOUND",
        `No voice ${JSON.stringify(value)} in the voice library ${library.dir} (vall-e voices list shows them), and no file ${path}`,
      );
    }
    return { kind: "library", id: found.meta.id, name: found.meta.name, sha256: voiceChecksum(found.voice) };
  }
}

/** What the pool keeps: the prepared voices used last. */
const POOL_SIZE = 64;

/**
 * Prepared voices for the engine, one per distinct voice, the most recent POOL_SIZE kept. A job's voice is checked
 * against its checksum when it is prepared: a file or library voice that changed since the job was made is an error
 * (ERR_VOICE_CHANGED), not another voice.
 */
export class VoicePool {
  readonly #engine: Engine;
  readonly #voicesDir: string | undefined;
  readonly #voices = new Map<string, Promise<Voice>>();
  #library: Promise<VoiceLibrary> | undefined;

  constructor(engine: Engine, options: { voicesDir?: string } = {}) {
    this.#engine = engine;
    this.#voicesDir = options.voicesDir;
  }

  /** The prepared voice of a source. */
  get(source: VoiceSource): Promise<Voice> {
    const key = source.kind === "espeak" ? `espeak:${source.name}` : `${source.kind}:${source.sha256}`;
    let voice = this.#voices.get(key);
    if (voice) {
      // Most recently used last.
      this.#voices.delete(key);
      this.#voices.set(key, voice);
      return voice;
    }
    voice = this.#prepare(source);
    this.#voices.set(key, voice);
    voice.catch(() => this.#voices.delete(key));
    while (this.#voices.size > POOL_SIZE) this.#voices.delete(this.#voices.keys().next().value as string);
    return voice;
  }

  async #prepare(source: VoiceSource): Promise<Voice> {
    if (source.kind === "espeak") return this.#engine.prepareVoice(source.name);
    if (source.kind === "file") {
      const sum = await fileChecksum(source.path).catch((error: NodeJS.ErrnoException) => {
        throw error.code === "ENOENT"
          ? new VallEError("ERR_FILE_NOT_FOUND", `Voice file not found: ${source.path}`, { cause: error })
          : error;
      });
      if (sum !== source.sha256) throw changed(`The voice file ${source.path}`);
      return this.#engine.prepareVoice(source.path);
    }
    // A library voice: its codes as stored. A voice added since the library was opened: open it again.
    this.#library ??= openVoiceLibrary(this.#voicesDir);
    let found = (await this.#library).find(source.id);
    if (!found) {
      this.#library = openVoiceLibrary(this.#voicesDir);
      found = (await this.#library).find(source.id);
    }
    if (!found) {
      throw new VallEError(
        "ERR_VOICE_NOT_FOUND",
        `No voice ${source.id} (${JSON.stringify(source.name)}) in the voice library ${(await this.#library).dir}`,
      );
    }
    if (voiceChecksum(found.voice) !== source.sha256) throw changed(`The library voice ${source.id}`);
    return found.voice;
  }
}

function changed(what: string): VallEError {
  return new VallEError(
    "ERR_VOICE_CHANGED",
    `${what} changed since the job was made (its SHA-256 differs): make the job again (vall-e batch)`,
  );
}
