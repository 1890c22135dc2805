/**
 * The hostile-input harness: runs one corpus case as a real `vall-e` process with a hard time bound, then checks the
 * properties every case must keep, whatever the input —
 *   - it ends by itself (no death by signal, no run past its bound) with the exit code the case expects;
 *   - a failure is one `error: …` line naming the input (file, flag or field), with no stack trace;
 *   - no bytes of an input file are echoed (every generated file carries a secret marker that must never be printed);
 *   - nothing is left in the case's output folder after a failure (no partial output, no temporary file);
 *   - special files stay what they were (FIFOs are not replaced), and the canary files (named by no command line,
 *     only from inside hostile artifacts) are neither read (access time) nor written (modification time);
 *   - a pickle that would run a command never runs it.
 * Each test file keeps a tally and writes it to test-results/hostile-<name>.json (runs, deaths by signal, runs past
 * their bound, special files replaced, unnamed files read, bytes echoed, outputs left).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bin } from "../processes.js";

export interface HostileCase {
  /** Unique, readable: `<class>/<what>`. */
  id: string;
  /** The arguments after `vall-e`; `out` is the case's own (empty) output folder. */
  args: (out: string) => string[];
  /** Exit code(s) the case must end with. */
  code: number | readonly number[];
  /** Text the error message must contain: the input it names (a path, a flag, a field). */
  names?: string | readonly string[];
  /** Extra environment, computed when the case runs (e.g. a hub's endpoint). */
  env?: () => NodeJS.ProcessEnv;
  /** Send this signal once stderr matches `after` (an interrupted run must clean up like Ctrl-C). */
  interrupt?: { signal: NodeJS.Signals; after: RegExp };
  /** Write `data` into the FIFO `fifo` once the run has started (a pipe given as a file, as `<(…)` does). */
  feed?: { fifo: string; data: string };
  /** Hard bound on the run (default 30 s); the case fails when it is reached. */
  limitMs?: number;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** What the cases of a corpus share: where things are, and what must not change. */
export interface CorpusWorld {
  /** Marker written into every generated file: it must never appear in any output. */
  secret: string;
  /** FIFOs that must still be FIFOs after every case. */
  fifos: readonly string[];
  /** Files no command names: neither read nor written by any case. */
  canaries: readonly string[];
  /** A file a malicious pickle would create. */
  pwned: string;
  /** Where each case's output folder is made. */
  outputs: string;
  /** The environment of every case (offline, private cache). */
  env: NodeJS.ProcessEnv;
}

/** One run, as the tally file lists it. */
export interface CaseRecord {
  id: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  /** The last line of stderr. */
  message: string;
  broken: string[];
}

export interface Tally {
  runs: number;
  deathsBySignal: number;
  pastBound: number;
  specialFilesReplaced: number;
  unnamedFilesRead: number;
  bytesEchoed: number;
  outputsLeft: number;
  wrongExitCode: number;
  unclearMessages: number;
  cases: CaseRecord[];
}

export function newTally(): Tally {
  return {
    runs: 0,
    deathsBySignal: 0,
    pastBound: 0,
    specialFilesReplaced: 0,
    unnamedFilesRead: 0,
    bytesEchoed: 0,
    outputsLeft: 0,
    wrongExitCode: 0,
    unclearMessages: 0,
    cases: [],
  };
}

/** An access time far in the past (before the file's mtime), so that any read moves it (relatime updates it). */
const UNREAD = new Date("2001-01-01T00:00:00Z");

/** Set a canary's access time back; returns its times to compare with after a run. */
export function armCanary(path: string): { atimeMs: number; mtimeMs: number } {
  utimesSync(path, UNREAD, statSync(path).mtime);
  const { atimeMs, mtimeMs } = statSync(path);
  return { atimeMs, mtimeMs };
}

/**
 * Whether this filesystem records reads in access times (relatime or strictatime; not noatime): read a probe file
 * after arming it. Without it the "no unnamed file read" property cannot be observed, and the tests say so.
 */
export async function accessTimesWork(dir: string): Promise<boolean> {
  mkdirSync(dir, { recursive: true });
  const probe = join(dir, "atime-probe");
  writeFileSync(probe, "probe");
  const before = armCanary(probe).atimeMs;
  const { readFile } = await import("node:fs/promises");
  await readFile(probe);
  return statSync(probe).atimeMs !== before;
}

function run(args: readonly string[], env: NodeJS.ProcessEnv, hostile: HostileCase): Promise<Finished> {
  const limitMs = hostile.limitMs ?? 30_000;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let interrupted = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      if (hostile.interrupt && !interrupted && hostile.interrupt.after.test(stderr)) {
        interrupted = true;
        child.kill(hostile.interrupt.signal);
      }
    });
    // The writer is a process of its own (an open of a FIFO blocks until its reader comes), killed with the run.
    const writer = hostile.feed
      ? spawn("sh", ["-c", 'printf %s "$1" > "$2"', "sh", hostile.feed.data, hostile.feed.fifo], { stdio: "ignore" })
      : undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, limitMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      writer?.kill("SIGKILL");
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started, timedOut });
    });
  });
}

/** Run one case and return every property it broke (empty: all kept), counting them in `tally`. */
export async function runHostile(world: CorpusWorld, hostile: HostileCase, tally: Tally): Promise<string[]> {
  const out = join(world.outputs, hostile.id.replace(/[^\w.-]+/g, "_"));
  mkdirSync(out, { recursive: true });
  const canaries = world.canaries.map((path) => ({ path, ...armCanary(path) }));
  const result = await run(hostile.args(out), { ...world.env, ...hostile.env?.() }, hostile);
  tally.runs++;
  const broken: string[] = [];
  const codes = typeof hostile.code === "number" ? [hostile.code] : hostile.code;
  const interruptedBy = hostile.interrupt?.signal;

  if (result.timedOut) {
    tally.pastBound++;
    broken.push(`ran past its bound (${hostile.limitMs ?? 30_000} ms)`);
  } else if (result.signal !== null) {
    tally.deathsBySignal++;
    broken.push(`died by ${result.signal}`);
  }
  if (!result.timedOut && !codes.includes(result.code ?? -1)) {
    tally.wrongExitCode++;
    broken.push(`exit code ${result.code}, expected ${codes.join(" or ")}`);
  }
  if (result.code !== 0 && !result.timedOut) {
    const lines = result.stderr.trimEnd().split("\n");
    const last = lines.at(-1) ?? "";
    const unclear: string[] = [];
    const expected = interruptedBy ? /^interrupted/ : /^error: /;
    if (!lines.some((line) => expected.test(line))) unclear.push(`no ${expected} line`);
    if (/^\s+at .+(:\d+:\d+\)?|\(native\))$/m.test(result.stderr)) unclear.push("a stack trace");
    // A raw value the program made (not one quoted from the input, as in `got "NaN"`).
    const unquoted = last.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    if (/\bundefined\b|\bNaN\b|\[object Object\]/.test(unquoted)) unclear.push(`a raw value in "${last}"`);
    for (const name of typeof hostile.names === "string" ? [hostile.names] : (hostile.names ?? [])) {
      if (!result.stderr.includes(name)) unclear.push(`does not name ${JSON.stringify(name)}`);
    }
    if (unclear.length > 0) {
      tally.unclearMessages++;
      broken.push(`unclear message (${unclear.join("; ")}): ${JSON.stringify(result.stderr.slice(-400))}`);
    }
  }
  const marker = world.secret.slice(0, 8); // a JSON parse error shows the first 10 characters of its input
  if (result.stdout.includes(marker) || result.stderr.includes(marker)) {
    tally.bytesEchoed++;
    broken.push("echoed bytes of an input file");
  }
  if (result.code !== 0) {
    const left = readdirSync(out);
    if (left.length > 0) {
      tally.outputsLeft++;
      broken.push(`left ${left.join(", ")} in its output folder`);
    }
  }
  for (const fifo of world.fifos) {
    if (!statSync(fifo).isFIFO()) {
      tally.specialFilesReplaced++;
      broken.push(`replaced the FIFO ${fifo}`);
    }
  }
  for (const canary of canaries) {
    const now = statSync(canary.path);
    if (now.atimeMs !== canary.atimeMs || now.mtimeMs !== canary.mtimeMs) {
      tally.unnamedFilesRead++;
      broken.push(`read or wrote ${canary.path}, which no command line names`);
    }
  }
  if (existsSync(world.pwned)) broken.push(`a pickle ran a command (${world.pwned} exists)`);
  tally.cases.push({
    id: hostile.id,
    code: result.code,
    signal: result.signal,
    ms: Math.round(result.ms),
    message: result.stderr.trimEnd().split("\n").at(-1) ?? "",
    broken: [...broken],
  });
  if (broken.length > 0) broken.push(`stderr: ${JSON.stringify(result.stderr.slice(-600))}`);
  return broken;
}

/** Write a file's tally where the test results go, and return it as one line for the log. */
export function writeTally(name: string, tally: Tally): string {
  const folder = join(process.cwd(), "test-results");
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, `hostile-${name}.json`), `${JSON.stringify(tally, null, 2)}\n`);
  const { cases, ...counts } = tally;
  return `hostile ${name}: ${Object.entries(counts)
    .map(([key, value]) => `${key} ${value}`)
    .join(", ")}`;
}
