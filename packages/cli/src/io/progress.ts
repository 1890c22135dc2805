/**
 * A progress bar on stderr (cli-progress) when it is a terminal and not --quiet; otherwise one line per new phase
 * (a stage, a file). A new key (stage, file) restarts the bar. Shared by generation progress and downloads.
 * StageClock times the stages of a run from its progress events, for the lines written instead of a bar (elapsed
 * seconds per stage, the real-time factor) and the ETA / RTF fields of a bar.
 */
import type { CommandContext } from "../context.js";

export interface ProgressBar<E> {
  /** True when a bar is drawn (stderr is a terminal and not --quiet); false: lines, or nothing. */
  readonly drawn: boolean;
  update(event: E): void;
  stop(): void;
}

export interface ProgressBarSpec<E> {
  /** cli-progress format, e.g. "{stage} [{bar}] {value}/{total}". */
  format: string;
  /** The phase an event belongs to; a new one restarts the bar. */
  key(event: E): string;
  total(event: E): number;
  value(event: E): number;
  /** Extra format fields. */
  payload?(event: E): Record<string, unknown>;
  /** Without a bar: called once when a new phase starts. */
  line(event: E): void;
}

/** The bars on screen now, and whether an interrupt has taken the terminal from them for good. */
const onScreen = new Set<{ stop(): void }>();
let halted = false;

/**
 * An interrupt (Ctrl-C, SIGTERM) is about to print: clear every bar from the screen and draw none again, so the
 * message starts on a clean line and no stale bar is left under the shell's prompt.
 */
/** A new run draws bars again (run() calls it first; an in-process caller may run several commands). */
export function resumeProgress(): void {
  halted = false;
}

export function haltProgress(): void {
  halted = true;
  for (const bar of onScreen) bar.stop();
  onScreen.clear();
}

export async function progressBar<E>(context: CommandContext, spec: ProgressBarSpec<E>): Promise<ProgressBar<E>> {
  const { output } = context;
  let key = "";
  if (output.quiet || output.stderr.isTTY !== true) {
    return {
      drawn: false,
      update: (event) => {
        if (spec.key(event) !== key) spec.line(event);
        key = spec.key(event);
      },
      stop: () => {},
    };
  }
  const { SingleBar } = await import("cli-progress");
  const bar = new SingleBar({
    stream: output.stderr as NodeJS.WriteStream,
    format: spec.format,
    hideCursor: true,
    clearOnComplete: true,
  });
  const handle = {
    stop: () => {
      if (key) bar.stop();
      key = "";
      onScreen.delete(handle);
    },
  };
  return {
    drawn: true,
    update: (event) => {
      if (halted) return;
      const payload = spec.payload?.(event) ?? {};
      if (spec.key(event) !== key) {
        if (key) bar.stop();
        bar.start(spec.total(event), spec.value(event), payload);
        key = spec.key(event);
        onScreen.add(handle);
      }
      bar.update(spec.value(event), payload);
    },
    stop: handle.stop,
  };
}

/** "1m05s" / "12s"; "?" when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m${rest}s` : `${m}m${rest}s`;
}

/** The real-time factor: processing seconds per second of audio ("-" while no audio is known). */
export function formatRtf(seconds: number, audioSeconds: number): string {
  return audioSeconds > 0 ? (seconds / audioSeconds).toFixed(2) : "-";
}

/** `1.20 s audio in 2.10 s (RTF 1.75)`. */
export function audioIn(audioSeconds: number, seconds: number): string {
  return `${audioSeconds.toFixed(2)} s audio in ${seconds.toFixed(2)} s (RTF ${formatRtf(seconds, audioSeconds)})`;
}

/** A stage and its seconds. */
export type StageTime = readonly [name: string, seconds: number];

/** `len 0.01 s, nar-len 0.80 s, nar 0.31 s`. */
export function formatStages(stages: readonly StageTime[]): string {
  return stages.map(([name, seconds]) => `${name} ${seconds.toFixed(2)} s`).join(", ");
}

/**
 * The stages of a run, timed from its progress events: a stage lasts from the previous stage's last event (or the
 * start) to its own last event, so the stages add up to the time since the start.
 */
export class StageClock {
  #now: () => number;
  #start: number;
  #lastEnd: number | undefined;
  #current: { key: string; name: string; start: number; last: number } | undefined;
  #closed: StageTime[] = [];

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#start = now();
  }

  /** Start again: the time before now is not counted. */
  restart(): void {
    this.#start = this.#now();
    this.#lastEnd = undefined;
    this.#current = undefined;
    this.#closed = [];
  }

  /** An event of the stage `name`; `key` tells one run of a stage from the next (e.g. the sentence). */
  event(key: string, name: string): void {
    const now = this.#now();
    if (this.#current?.key === key) {
      this.#current.last = now;
      return;
    }
    this.#close();
    this.#current = { key, name, start: this.#lastEnd ?? this.#start, last: now };
  }

  /** The stages ended since the last take (the current one ends at its last event), and their seconds together. */
  take(): { stages: StageTime[]; seconds: number } {
    this.#close();
    const stages = this.#closed;
    this.#closed = [];
    return { stages, seconds: stages.reduce((sum, [, seconds]) => sum + seconds, 0) };
  }

  /** Seconds since the start. */
  elapsed(): number {
    return (this.#now() - this.#start) / 1e3;
  }

  /** Seconds since the current stage started. */
  stageElapsed(): number {
    return (this.#now() - (this.#current?.start ?? this.#lastEnd ?? this.#start)) / 1e3;
  }

  #close(): void {
    const current = this.#current;
    if (!current) return;
    this.#closed.push([current.name, (current.last - current.start) / 1e3]);
    this.#lastEnd = current.last;
    this.#current = undefined;
  }
}
