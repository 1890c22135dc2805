/**
 * A job: one item of a batch with everything needed to speak it — the same object on one machine and as the data of a
 * queue job. Its key (the queue's job id) is the SHA-256 of what determines its output: the id (where it goes), the
 * text, the voice's identity (a file by its content hash), the seed and every setting resolved by the one table of
 * defaults. The same manifest line always gives the same key, so enqueuing a manifest twice adds nothing, and a
 * worker can check that it resolves a job exactly as the machine that made it did.
 */
import { createHash } from "node:crypto";
import { type GenerationSettings, resolveRequest, SAMPLING_SETTINGS, VallEError } from "@vall-e/pipeline";
import { checkItemId, type ManifestLine } from "./manifest/item.js";
import type { VoiceSource } from "./voices.js";

export const JOB_FORMAT = "vall-e.batch.job/1";

export interface BatchJob {
  format: typeof JOB_FORMAT;
  /** 1-based line of the manifest it came from. */
  line: number;
  id: string;
  text: string;
  /** The voice as the line named it (for messages and batch.json). */
  voiceName?: string;
  voice?: VoiceSource;
  seed: number;
  /** The settings as the line gave them, in the library's names (sampler settings in `sampling`). */
  settings: Omit<GenerationSettings, "seed">;
  /** SHA-256 (hex) of what determines the output: the job's id in the queue. */
  key: string;
}

/** JSON with the keys of every object sorted: the same value gives the same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/** The options of a job as the engine resolves them (and writes them in run.json's `options`). */
export function resolvedOptions(job: Pick<BatchJob, "text" | "seed" | "settings" | "voice">) {
  return resolveRequest({
    text: job.text,
    ...job.settings,
    seed: job.seed,
    ...(job.voice ? { reference: "voice" } : {}),
  }).settings;
}

/** The key of a job: SHA-256 of its id, text, voice identity, seed and fully resolved settings (sampler defaults too). */
export function jobKey(job: Omit<BatchJob, "key" | "format" | "line" | "voiceName">): string {
  const options = resolvedOptions(job);
  const sampling = Object.fromEntries(
    Object.entries(SAMPLING_SETTINGS).map(([name, setting]) => [
      name,
      (options.sampling as Record<string, unknown>)[name] ?? setting.value,
    ]),
  );
  const voice =
    job.voice === undefined
      ? null
      : job.voice.kind === "espeak"
        ? { kind: "espeak", name: job.voice.name }
        : { kind: job.voice.kind, sha256: job.voice.sha256 };
  const identity = {
    format: JOB_FORMAT,
    id: job.id,
    text: job.text,
    voice,
    seed: job.seed,
    options: { ...options, sampling },
  };
  return createHash("sha256").update(canonicalJson(identity)).digest("hex");
}

/** A manifest line with its voice resolved, as a job. */
export function makeJob(line: ManifestLine, voice: VoiceSource | undefined): BatchJob {
  const job = {
    id: line.id,
    text: line.text,
    ...(voice === undefined ? {} : { voice }),
    seed: line.seed,
    settings: line.settings,
  };
  return {
    format: JOB_FORMAT,
    line: line.line,
    ...job,
    ...(line.voice === undefined ? {} : { voiceName: line.voice }),
    key: jobKey(job),
  };
}

/**
 * A job from the queue, checked before anything is done with it: its format, an id that is a folder name, and a key
 * that this machine computes the same (so its defaults table agrees with the one that made the job).
 */
export function checkJob(data: unknown, jobId?: string): BatchJob {
  const job = data as Partial<BatchJob> | null;
  const bad = (why: string) => new VallEError("ERR_JOB_INVALID", `Not a vall-e batch job (${why})`);
  if (typeof job !== "object" || job === null || job.format !== JOB_FORMAT) throw bad(`format is not ${JOB_FORMAT}`);
  checkItemId(job.id);
  if (typeof job.text !== "string" || typeof job.seed !== "number" || typeof job.settings !== "object") {
    throw bad("text, seed or settings missing");
  }
  const voice = job.voice;
  if (
    voice !== undefined &&
    !(
      (voice.kind === "file" && typeof voice.path === "string" && typeof voice.sha256 === "string") ||
      (voice.kind === "library" && typeof voice.id === "string" && typeof voice.sha256 === "string") ||
      (voice.kind === "espeak" && typeof voice.name === "string")
    )
  ) {
    throw bad("its voice is not a file, library or espeak voice");
  }
  const checked = job as BatchJob;
  const key = jobKey(checked);
  if (key !== checked.key || (jobId !== undefined && jobId !== key)) {
    throw new VallEError(
      "ERR_JOB_KEY",
      `Job ${checked.id} (line ${checked.line}) resolves to another key here than where it was made: are vall-e's versions the same on every machine?`,
    );
  }
  return checked;
}
