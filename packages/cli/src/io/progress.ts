/**
 * A progress bar on stderr (cli-progress) when it is a terminal and not --quiet; otherwise one line per new phase
 * (a stage, a file). A new key (stage, file) restarts the bar. Shared by generation progress and downloads.
 */
import type { CommandContext } from "../context.js";

export interface ProgressBar<E> {
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

export async function progressBar<E>(context: CommandContext, spec: ProgressBarSpec<E>): Promise<ProgressBar<E>> {
  const { output } = context;
  let key = "";
  if (output.quiet || output.stderr.isTTY !== true) {
    return {
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
  return {
    update: (event) => {
      const payload = spec.payload?.(event) ?? {};
      if (spec.key(event) !== key) {
        if (key) bar.stop();
        bar.start(spec.total(event), spec.value(event), payload);
        key = spec.key(event);
      }
      bar.update(spec.value(event), payload);
    },
    stop: () => {
      if (key) bar.stop();
      key = "";
    },
  };
}
