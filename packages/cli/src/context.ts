import type { Output } from "./output.js";

/** What every command's action gets from the entry point. */
export interface CommandContext {
  output: Output;
  /** Aborted on Ctrl-C: long actions pass it down and stop between steps. */
  signal: AbortSignal;
  /** Set the process exit code for a run that completed but found problems (e.g. doctor). */
  setExitCode(code: number): void;
}
