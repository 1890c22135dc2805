/**
 * The output folder of a batch, shared by every process that writes to it (one machine, or the workers of many on
 * shared storage). An item is written into `DIR/.partial/<host>-<pid>-<random>-<id>/` — the engine's artifacts,
 * output.wav and run.json, then batch.json — and renamed to `DIR/<id>/` when complete, so `DIR/<id>/` is absent or
 * whole. An item that is already there and verifies (batch.json has the job's key, run.json names the same text,
 * options and seed, output.wav parses) is not done again; when two runs of one job finish (a stalled job run twice),
 * the first rename wins and the second is dropped, so exactly one `DIR/<id>/` remains.
 */
import { randomBytes } from "node:crypto";
import { open, readdir, readFile, rename, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { makeDirectory, parseWav, readRunManifest, VallEError } from "@vall-e/pipeline";
import { type BatchJob, canonicalJson, resolvedOptions } from "../job.js";
import { checkItemId } from "../manifest/item.js";
import { ITEM_RECORD, ITEM_RECORD_FORMAT, RESULTS_FILE, STAGING_DIR } from "./layout.js";

/** A finished item in the output folder. */
export interface ItemOutput {
  id: string;
  /** DIR/<id>/output.wav, absolute. */
  output: string;
  /** Seconds of audio. */
  seconds: number;
  seed: number;
}

/** What batch.json holds. */
export interface ItemRecord {
  format: typeof ITEM_RECORD_FORMAT;
  id: string;
  line: number;
  key: string;
  voice?: string;
  seed: number;
}

/** This process's mark on what it stages: `<host>-<pid>`, the host reduced to letters and digits. */
const HOST =
  hostname()
    .replace(/[^A-Za-z0-9]/g, "")
    .slice(0, 32) || "host";
const STAGED = /^([A-Za-z0-9]+)-(\d+)-[0-9a-f]{8}-/;
const COLLISION = new Set(["ENOTEMPTY", "EEXIST", "ENOTDIR", "EISDIR"]);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function writeDurable(path: string, text: string): Promise<void> {
  const file = await open(path, "w");
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
}

export class OutputStore {
  /** The output folder, absolute. */
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Open (creating) an output folder, and remove what dead processes of this host left staged in it. */
  static async open(dir: string): Promise<OutputStore> {
    const store = new OutputStore(resolve(dir));
    await makeDirectory(join(store.dir, STAGING_DIR)); // ERR_FILE_WRITE naming it; bounded, unlike a recursive mkdir
    await store.sweep();
    return store;
  }

  /** DIR/<id> (the id checked again: it is never a path outside DIR). */
  itemDir(id: string): string {
    return join(this.dir, checkItemId(id));
  }

  /** The item of a job, when it is in DIR/<id>/ and verifies; undefined when it has to be done. */
  async verify(job: BatchJob): Promise<ItemOutput | undefined> {
    return this.#verifyAt(this.itemDir(job.id), job);
  }

  async #verifyAt(dir: string, job: BatchJob): Promise<ItemOutput | undefined> {
    try {
      const record = JSON.parse(await readFile(join(dir, ITEM_RECORD), "utf8")) as Partial<ItemRecord>;
      if (record.format !== ITEM_RECORD_FORMAT || record.id !== job.id || record.key !== job.key) return undefined;
      const run = await readRunManifest(join(dir, "run.json"));
      // The decoder is the engine's (the worker's --vocoder), not the job's: an item counts whichever decoded it. So is
      // the sentence batch when the job leaves it to the engine (0, auto: run.json records what the device made of it;
      // items from before batching record none).
      const { decoder: _decoder, sentenceBatch: used, ...options } = run.options;
      const { sentenceBatch: asked, ...expected } = resolvedOptions(job);
      if (asked !== 0 && used !== asked) return undefined;
      if (run.inputs.text !== job.text || canonicalJson(options) !== canonicalJson(expected)) return undefined;
      const wav = parseWav(await readFile(join(dir, "output.wav")), "output.wav");
      return {
        id: job.id,
        output: join(this.itemDir(job.id), "output.wav"),
        seconds: (wav.channels[0]?.length ?? 0) / wav.sampleRate,
        seed: job.seed,
      };
    } catch {
      return undefined;
    }
  }

  /**
   * Write a job's item: `produce` writes the engine's artifacts into the staging folder it is given; then batch.json
   * is added and the folder renamed to DIR/<id>/. A DIR/<id>/ that verifies by then (another run of the same job
   * finished first) is kept and this one dropped; one that does not (an older, different item) is replaced.
   */
  async write(job: BatchJob, produce: (dir: string) => Promise<void>): Promise<ItemOutput> {
    await this.sweep();
    const staging = this.#stagingPath(job.id);
    try {
      await produce(staging);
      const record: ItemRecord = {
        format: ITEM_RECORD_FORMAT,
        id: job.id,
        line: job.line,
        key: job.key,
        ...(job.voiceName === undefined ? {} : { voice: job.voiceName }),
        seed: job.seed,
      };
      await writeDurable(join(staging, ITEM_RECORD), `${JSON.stringify(record, null, 2)}\n`);
      const written = await this.#verifyAt(staging, job);
      if (!written) {
        throw new VallEError("ERR_INTERNAL", `The item ${job.id} written in ${staging} does not verify`);
      }
      await this.#commit(staging, job);
      return written;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  async #commit(staging: string, job: BatchJob): Promise<void> {
    const final = this.itemDir(job.id);
    for (let attempt = 0; ; attempt++) {
      try {
        await rename(staging, final);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? "";
        if (!COLLISION.has(code) || attempt >= 3) {
          throw new VallEError("ERR_FILE_WRITE", `Cannot move ${staging} to ${final}: ${(error as Error).message}`, {
            cause: error,
          });
        }
      }
      if (await this.verify(job)) return;
      // Something else is in the way: move it aside (a rename, so DIR/<id>/ is never half there), then try again.
      const aside = this.#stagingPath(`old-${job.id}`);
      try {
        await rename(final, aside);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
      await rm(aside, { recursive: true, force: true });
    }
  }

  #stagingPath(name: string): string {
    return join(this.dir, STAGING_DIR, `${HOST}-${process.pid}-${randomBytes(4).toString("hex")}-${name}`);
  }

  /**
   * Remove what processes of this host that no longer run left in DIR/.partial/ (a worker killed mid-job). Other
   * hosts' entries are left alone: their processes may still be writing.
   */
  async sweep(): Promise<string[]> {
    const staging = join(this.dir, STAGING_DIR);
    const removed: string[] = [];
    for (const entry of await readdir(staging).catch(() => [] as string[])) {
      const match = STAGED.exec(entry);
      if (!match || match[1] !== HOST || isAlive(Number(match[2]))) continue;
      await rm(join(staging, entry), { recursive: true, force: true });
      removed.push(entry);
    }
    return removed;
  }

  /** Write DIR/results.jsonl atomically (staged, then renamed). */
  async writeResults(lines: readonly unknown[]): Promise<string> {
    const path = join(this.dir, RESULTS_FILE);
    const staging = this.#stagingPath(RESULTS_FILE);
    try {
      await writeDurable(staging, lines.map((line) => `${JSON.stringify(line)}\n`).join(""));
      await rename(staging, path);
    } catch (error) {
      throw new VallEError("ERR_FILE_WRITE", `Cannot write ${path}: ${(error as Error).message}`, { cause: error });
    } finally {
      await rm(staging, { force: true });
    }
    return path;
  }
}
