/**
 * The server's voice library: each uploaded voice is encoded once (engine.prepareVoice) and kept as its prompt codes
 * under the voices directory, one `<id>.json` file per voice, written atomically; loaded again on start. Ids are
 * generated here; a client's words never become a path — lookups go through the in-memory index only.
 */
import { randomBytes } from "node:crypto";
import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Engine, FRAME_RATE, makeDirectory, type ReferenceInput, Voice } from "@vall-e/pipeline";
import { invalidRequest, notFound } from "./errors.js";

export const VOICE_FORMAT = "vall-e.voice/1";

export interface StoredVoice {
  id: string;
  object: "audio.voice";
  name: string;
  /** Seconds of the reference audio. */
  seconds: number;
  created_at: number;
}

interface VoiceFile extends StoredVoice {
  format: typeof VOICE_FORMAT;
  /** Per reference, its codes (levels × frames). */
  references: number[][][];
}

const ID = /^voice_[0-9a-f]{24}$/;
/** A printable label: letters, digits, space, dot, dash, underscore; 1 to 64 characters. */
const NAME = /^[\p{L}\p{N} ._-]{1,64}$/u;

export class VoiceStore {
  readonly dir: string;
  readonly #voices = new Map<string, { meta: StoredVoice; voice: Voice }>();

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Open (creating) the directory and load the voices in it; a file that is not a voice is skipped. */
  static async open(dir: string): Promise<VoiceStore> {
    await makeDirectory(dir);
    const store = new VoiceStore(dir);
    for (const entry of await readdir(dir)) {
      const id = entry.replace(/\.json$/, "");
      if (!entry.endsWith(".json") || !ID.test(id)) continue;
      try {
        const file = JSON.parse(await readFile(join(dir, entry), "utf8")) as VoiceFile;
        if (file.format !== VOICE_FORMAT || file.id !== id || !Array.isArray(file.references)) continue;
        const { format: _format, references, ...meta } = file;
        store.#voices.set(id, { meta, voice: new Voice(references, [], false) });
      } catch {
        // not a voice file (or a damaged one): not served
      }
    }
    return store;
  }

  list(): StoredVoice[] {
    return [...this.#voices.values()]
      .map((v) => v.meta)
      .sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
  }

  /** A voice by id, or by name (the newest with that name). */
  find(idOrName: string): { meta: StoredVoice; voice: Voice } | undefined {
    const byId = this.#voices.get(idOrName);
    if (byId) return byId;
    const named = [...this.#voices.values()].filter((v) => v.meta.name === idOrName);
    return named.at(-1);
  }

  get(idOrName: string): { meta: StoredVoice; voice: Voice } {
    const found = this.find(idOrName);
    if (!found)
      throw notFound(`No voice ${JSON.stringify(idOrName)} (GET /v1/audio/voices lists them)`, "voice_not_found");
    return found;
  }

  /**
   * Prepare a voice — from samples in memory, or from audio files (several: one voice) — and store it. `seconds`
   * defaults to the length of its codes.
   */
  async add(
    engine: Engine,
    name: string,
    reference: ReferenceInput | readonly ReferenceInput[],
    options: { seconds?: number; signal?: AbortSignal } = {},
  ): Promise<StoredVoice> {
    if (!NAME.test(name)) {
      throw invalidRequest(
        `Expected a name of 1 to 64 letters, digits, spaces, dots, dashes or underscores for name, got ${JSON.stringify(name.slice(0, 80))}`,
        "invalid_value",
      );
    }
    const voice = await engine.prepareVoice(reference, options.signal ? { signal: options.signal } : {});
    const seconds = options.seconds ?? voice.frames / FRAME_RATE;
    const id = `voice_${randomBytes(12).toString("hex")}`;
    const meta: StoredVoice = {
      id,
      object: "audio.voice",
      name,
      seconds: Math.round(seconds * 1000) / 1000,
      created_at: Math.floor(Date.now() / 1000),
    };
    const file: VoiceFile = {
      format: VOICE_FORMAT,
      ...meta,
      references: voice.references.map((r) => r.map((level) => [...level])),
    };
    const path = join(this.dir, `${id}.json`);
    const staging = `${path}.${process.pid}.tmp`;
    try {
      await writeFile(staging, `${JSON.stringify(file)}\n`);
      await rename(staging, path);
    } finally {
      await rm(staging, { force: true });
    }
    this.#voices.set(id, { meta, voice });
    return meta;
  }

  /** Remove a voice by id (`byName`: or by name, the newest with it). */
  async remove(id: string, options: { byName?: boolean } = {}): Promise<StoredVoice> {
    const found = options.byName ? this.find(id) : this.#voices.get(id);
    if (!found) throw notFound(`No voice ${options.byName ? "" : "with id "}${JSON.stringify(id)}`, "voice_not_found");
    id = found.meta.id;
    await rm(join(this.dir, `${id}.json`), { force: true });
    this.#voices.delete(id);
    return found.meta;
  }
}
