/**
 * Downloading model files from the Hugging Face hub into a cache directory, safely:
 * - the hub's own metadata (`paths-info`, through @huggingface/hub) gives each file's size and checksum: the LFS
 *   SHA-256 for large files, the git blob SHA-1 for small ones;
 * - bytes go to `<file>.<hash prefix>.incomplete` and are resumed from there with an HTTP Range request, within a run
 *   (the connection drops) and across runs (the process was stopped);
 * - the whole file is checked against the hub's checksum before it is moved to its name in one rename, so a failed or
 *   corrupt download never leaves a file the loader would pick up; a mismatch deletes the download;
 * - a lock file (proper-lockfile) keeps two processes from downloading the same file at once: the second waits and
 *   then finds the file in place.
 * HF_ENDPOINT, HF_TOKEN and HF_HUB_OFFLINE are honoured as the Hugging Face tools honour them.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { CancelledError, fileWriteError, VallEError } from "@vall-e/core";
import writeFileAtomic from "write-file-atomic";
import { makeDirectory } from "../files/make-directory.js";
import { acquireLock } from "./lock.js";

/** The repository the models are published in. */
export const HUB_REPO = "ecker/vall-e";
export const DEFAULT_ENDPOINT = "https://huggingface.co";

/** A file in a hub repository. */
export interface HubFile {
  repo: string;
  /** Branch, tag or commit. */
  revision: string;
  path: string;
}

export interface HubOptions {
  /** The hub's address (HF_ENDPOINT; default https://huggingface.co). */
  endpoint?: string;
  /** An access token (HF_TOKEN), sent as a Bearer token. */
  token?: string;
  /** HF_HUB_OFFLINE: never touch the network. */
  offline?: boolean;
  /**
   * Milliseconds the hub may stay silent — to connect and answer a request, or between two pieces of a file — before
   * the attempt counts as failed (VALL_E_HUB_TIMEOUT, in seconds; default 30 s). A dropped or stalled transfer is
   * resumed; one that stays silent ends with ERR_NETWORK naming the timeout.
   */
  timeoutMs?: number;
}

export const DEFAULT_HUB_TIMEOUT_MS = 30_000;

/** Hub settings from the environment, read the way the Hugging Face libraries read them. */
export function hubOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): HubOptions {
  const endpoint = (env.HF_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, "");
  const token = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined;
  const offline = ["1", "true", "yes", "on"].includes((env.HF_HUB_OFFLINE ?? "").toLowerCase());
  const seconds =
    env.VALL_E_HUB_TIMEOUT === undefined || env.VALL_E_HUB_TIMEOUT === "" ? undefined : Number(env.VALL_E_HUB_TIMEOUT);
  if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0 && seconds <= 3600)) {
    throw new VallEError(
      "ERR_INVALID_ARGUMENT",
      `Expected seconds in (0, 3600] for VALL_E_HUB_TIMEOUT, got ${JSON.stringify(env.VALL_E_HUB_TIMEOUT)}`,
    );
  }
  return {
    endpoint,
    ...(token ? { token } : {}),
    offline,
    ...(seconds === undefined ? {} : { timeoutMs: Math.round(seconds * 1000) }),
  };
}

export interface DownloadProgress {
  /** The file's name. */
  file: string;
  /** Bytes on disk so far (a resumed download starts above 0). */
  received: number;
  total: number;
}

export interface PullOptions extends HubOptions {
  signal?: AbortSignal;
  onProgress?: (event: DownloadProgress) => void;
  /** Called once when another process holds the file's lock and this one waits for it. */
  onWait?: (file: string) => void;
  /** How many times one run connects for the bytes before giving up (default 5); the partial file is kept. */
  attempts?: number;
}

/** What the hub says a file must be. */
export interface RemoteChecksum {
  algorithm: "sha256" | "git-sha1";
  hash: string;
  size: number;
}

/** Written beside each downloaded file (`<file>.download.json`): where it came from and its checksum. */
export interface DownloadRecord {
  format: "vall-e.download/1";
  repo: string;
  revision: string;
  path: string;
  url: string;
  checksum: RemoteChecksum;
  downloadedAt: string;
}

export interface PulledFile {
  path: string;
  checksum: RemoteChecksum;
  /** false: the file was already in place and matched the hub's checksum. */
  downloaded: boolean;
  /** A file that was in place but did not match (it was replaced). */
  replacedCorrupt: boolean;
}

/** The network could not be reached (offline, DNS, refused): ERR_NETWORK. */
export class NetworkError extends VallEError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("ERR_NETWORK", message, options);
  }
}

export function recordPath(file: string): string {
  return `${file}.download.json`;
}

/** The download record beside a cached file, or undefined (none, or unreadable). */
export async function readDownloadRecord(file: string): Promise<DownloadRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(recordPath(file), "utf8")) as DownloadRecord;
    return record.format === "vall-e.download/1" ? record : undefined;
  } catch {
    return undefined;
  }
}

/** A file's checksum in the hub's terms (SHA-256, or the git blob SHA-1 of a file stored in git itself). */
export async function checksumOf(
  path: string,
  algorithm: RemoteChecksum["algorithm"],
  signal?: AbortSignal,
): Promise<string> {
  const hash = createHash(algorithm === "sha256" ? "sha256" : "sha1");
  if (algorithm === "git-sha1") hash.update(`blob ${(await stat(path)).size}\0`);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    if (signal?.aborted) throw new CancelledError();
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}

/**
 * Make sure `dir/<file name>` holds the hub's file: check one already there, else download it (resuming a partial
 * download), verify it and move it into place.
 */
export async function pullFile(file: HubFile, dir: string, options: PullOptions = {}): Promise<PulledFile> {
  const name = basename(file.path);
  const target = join(dir, name);
  if (options.offline) {
    throw new NetworkError(`Cannot download ${name}: HF_HUB_OFFLINE is set`);
  }
  await makeDirectory(dir);
  const release = await acquireLock(target, `${target}.lock`, {
    ...(options.signal ? { signal: options.signal } : {}),
    onWait: () => options.onWait?.(name),
  });
  try {
    const hub = await hubClient(options);
    const checksum = await remoteChecksum(hub, file, options);
    let replacedCorrupt = false;
    if (await exists(target)) {
      if ((await checksumOf(target, checksum.algorithm, options.signal)) === checksum.hash) {
        const record = await readDownloadRecord(target);
        if (record?.checksum.hash !== checksum.hash) await writeRecord(target, file, hub.url(file), checksum);
        return { path: target, checksum, downloaded: false, replacedCorrupt: false };
      }
      replacedCorrupt = true;
    }
    const url = await hub.resolve(file);
    const partial = `${target}.${checksum.hash.slice(0, 16)}.incomplete`;
    await transfer(url, partial, name, checksum, hub.headers, options);
    const actual = await checksumOf(partial, checksum.algorithm, options.signal);
    if (actual !== checksum.hash) {
      await rm(partial, { force: true });
      throw new VallEError(
        "ERR_CHECKSUM",
        `Checksum mismatch for ${name} downloaded from ${url}: the hub says ${checksum.algorithm} ${checksum.hash}, the bytes received have ${actual}. The download was deleted and nothing was cached; run the command again (if it persists, something between you and the hub alters the file).`,
      );
    }
    await rm(recordPath(target), { force: true });
    try {
      await rename(partial, target);
    } catch (error) {
      throw fileWriteError(target, error);
    }
    await writeRecord(target, file, url, checksum);
    return { path: target, checksum, downloaded: true, replacedCorrupt };
  } finally {
    await release();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function writeRecord(target: string, file: HubFile, url: string, checksum: RemoteChecksum): Promise<void> {
  const record: DownloadRecord = {
    format: "vall-e.download/1",
    repo: file.repo,
    revision: file.revision,
    path: file.path,
    url,
    checksum,
    downloadedAt: new Date().toISOString(),
  };
  try {
    await writeFileAtomic(recordPath(target), `${JSON.stringify(record, null, 2)}\n`);
  } catch (error) {
    throw fileWriteError(recordPath(target), error);
  }
}

interface HubClient {
  headers: Record<string, string>;
  url(file: HubFile): string;
  /** The URL to fetch the bytes from (after the hub's redirects to its storage). */
  resolve(file: HubFile): Promise<string>;
  pathsInfo(file: HubFile): Promise<{ size: number; oid?: string; lfs?: { oid: string; size: number } } | undefined>;
}

async function hubClient(options: PullOptions): Promise<HubClient> {
  const endpoint = (options.endpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, "");
  const token = options.token;
  if (token !== undefined && !token.startsWith("hf_")) {
    throw new VallEError("ERR_INVALID_ARGUMENT", 'HF_TOKEN must be a Hugging Face access token (it starts with "hf_")');
  }
  const hub = await import("@huggingface/hub");
  const timeoutMs = options.timeoutMs ?? DEFAULT_HUB_TIMEOUT_MS;
  // Every metadata request ends within the timeout (or when the caller aborts). The timer is a plain one held by the
  // request, not AbortSignal.timeout(): on Node 20, AbortSignal.any() holds its sources weakly, a timeout signal
  // nothing else references can be garbage-collected before it fires, and a hub that never answers is then waited
  // for forever. The timer's closure holds the deadline until it fires; unref'd, it never keeps the process alive.
  const timedFetch: typeof fetch = (input, init) => {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(timeoutError(timeoutMs)), timeoutMs);
    timer.unref();
    const signal = AbortSignal.any([
      deadline.signal,
      ...(options.signal ? [options.signal] : []),
      ...(init?.signal ? [init.signal] : []),
    ]);
    return fetch(input, { ...init, signal });
  };
  const common = { hubUrl: endpoint, fetch: timedFetch, ...(token ? { accessToken: token } : {}) };
  const guard = async <T>(file: HubFile, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (options.signal?.aborted) throw new CancelledError();
      throw hubError(error, file, endpoint, timeoutMs);
    }
  };
  return {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    url: (file) => `${endpoint}/${file.repo}/resolve/${encodeURIComponent(file.revision)}/${file.path}`,
    resolve: (file) =>
      guard(file, async () => {
        const info = await hub.fileDownloadInfo({
          ...common,
          repo: file.repo,
          path: file.path,
          revision: file.revision,
        });
        if (!info) throw notFound(file);
        return info.url;
      }),
    pathsInfo: (file) =>
      guard(file, async () => {
        const [entry] = await hub.pathsInfo({
          ...common,
          repo: file.repo,
          paths: [file.path],
          revision: file.revision,
        });
        return entry && entry.type === "file" ? entry : undefined;
      }),
  };
}

function notFound(file: HubFile): VallEError {
  return new VallEError(
    "ERR_MODEL_NOT_FOUND",
    `${file.repo} has no file ${file.path} on branch ${file.revision} (check the name, e.g. the --quant)`,
  );
}

function hubError(error: unknown, file: HubFile, endpoint: string, timeoutMs: number): unknown {
  if (error instanceof VallEError) return error;
  if (isTimeout(error)) {
    return new NetworkError(
      `${endpoint} did not answer within ${timeoutMs / 1000} s (${file.repo}/${file.path}; VALL_E_HUB_TIMEOUT sets the limit)`,
      { cause: error },
    );
  }
  const status = (error as { statusCode?: number }).statusCode;
  if (status === 404) return notFound(file);
  if (status === 401 || status === 403) {
    return new VallEError(
      "ERR_ACCESS_DENIED",
      `${endpoint} refused access to ${file.repo}/${file.path} (HTTP ${status}): set HF_TOKEN to a token that can read it`,
      { cause: error },
    );
  }
  if (status !== undefined) {
    return new NetworkError(`${endpoint} answered HTTP ${status} for ${file.repo}/${file.path}`, { cause: error });
  }
  return new NetworkError(`Cannot reach ${endpoint} (${networkReason(error)})`, { cause: error });
}

function isTimeout(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    if ((e as { name?: string }).name === "TimeoutError") return true;
  }
  return false;
}

function networkReason(error: unknown): string {
  if (isTimeout(error)) return (error as Error).message;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

async function remoteChecksum(hub: HubClient, file: HubFile, options: PullOptions): Promise<RemoteChecksum> {
  if (options.signal?.aborted) throw new CancelledError();
  const entry = await hub.pathsInfo(file);
  if (!entry) throw notFound(file);
  if (entry.lfs) return { algorithm: "sha256", hash: entry.lfs.oid, size: entry.lfs.size };
  if (entry.oid) return { algorithm: "git-sha1", hash: entry.oid, size: entry.size };
  throw new NetworkError(`The hub gave no checksum for ${file.repo}/${file.path}`);
}

function timeoutError(ms: number): Error {
  const error = new Error(`no data from the hub for ${ms / 1000} s`);
  error.name = "TimeoutError";
  return error;
}

/** Fetch the bytes into `partial`, resuming from what it holds, reconnecting when the connection drops. */
async function transfer(
  url: string,
  partial: string,
  name: string,
  checksum: RemoteChecksum,
  headers: Record<string, string>,
  options: PullOptions,
): Promise<void> {
  const attempts = options.attempts ?? 5;
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    let offset = 0;
    try {
      offset = (await stat(partial)).size;
    } catch {}
    if (offset > checksum.size) {
      await rm(partial, { force: true });
      offset = 0;
    }
    if (offset === checksum.size) return;
    if (options.signal?.aborted) throw new CancelledError();
    options.onProgress?.({ file: name, received: offset, total: checksum.size });
    // An idle timer: the attempt is given up when the hub is silent for timeoutMs — before it answers, or between
    // two pieces of the body (a stalled connection) — and the next attempt resumes from what arrived.
    const timeoutMs = options.timeoutMs ?? DEFAULT_HUB_TIMEOUT_MS;
    const idle = new AbortController();
    const arm = () => setTimeout(() => idle.abort(timeoutError(timeoutMs)), timeoutMs).unref();
    let timer = arm();
    const alive = () => {
      clearTimeout(timer);
      timer = arm();
    };
    const signal = AbortSignal.any([idle.signal, ...(options.signal ? [options.signal] : [])]);
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { ...headers, ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}) },
        signal,
      });
      alive();
    } catch (error) {
      clearTimeout(timer);
      if (options.signal?.aborted) throw new CancelledError();
      lastError = idle.signal.aborted ? idle.signal.reason : error;
      continue;
    }
    if (response.status !== 200 && response.status !== 206) clearTimeout(timer);
    if (response.status === 416 && offset > 0) {
      // The server has nothing past our offset: what we hold is stale. Start over.
      await response.body?.cancel();
      await rm(partial, { force: true });
      continue;
    }
    if (!(response.status === 200 || (response.status === 206 && offset > 0))) {
      await response.body?.cancel();
      throw new NetworkError(`Downloading ${name} from ${url} failed: HTTP ${response.status}`);
    }
    // A 200 to a Range request means the server sends the whole file: start over.
    if (response.status === 200) offset = 0;
    const handle = await open(partial, offset === 0 ? "w" : "a").catch((error) => {
      throw fileWriteError(partial, error);
    });
    let received = offset;
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        // A failed write (a full disk) is not the network's: it ends the download with its own error.
        await handle.write(chunk).catch((error: unknown) => {
          throw fileWriteError(partial, error);
        });
        received += chunk.length;
        alive();
        options.onProgress?.({ file: name, received, total: checksum.size });
      }
      await handle.sync();
    } catch (error) {
      if (options.signal?.aborted) throw new CancelledError();
      if ((error as { code?: string }).code === "ERR_FILE_WRITE") throw error;
      lastError = idle.signal.aborted ? idle.signal.reason : error;
      continue;
    } finally {
      clearTimeout(timer);
      await handle.close();
    }
    if (received === checksum.size) return;
    lastError = new Error(`the connection ended after ${received} of ${checksum.size} bytes`);
  }
  throw new NetworkError(
    `Downloading ${name} from ${url} failed after ${attempts} attempt(s) (${networkReason(lastError)}); the partial download is kept and the next run resumes it`,
    { cause: lastError },
  );
}
