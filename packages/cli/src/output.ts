/**
 * How commands talk: stdout carries data only (a report, JSON, audio); logs and progress go to stderr; colour only
 * when the stream is a terminal and NO_COLOR is unset.
 */
import picocolors from "picocolors";

export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export type Colors = ReturnType<typeof picocolors.createColors>;

export class Output {
  readonly stdout: OutputStreams["stdout"];
  readonly stderr: OutputStreams["stderr"];
  /** Colours for text written to stdout / stderr. */
  readonly color: Colors;
  readonly errorColor: Colors;
  quiet = false;
  verbose = false;

  constructor(streams: OutputStreams, env: NodeJS.ProcessEnv = process.env) {
    this.stdout = streams.stdout;
    this.stderr = streams.stderr;
    const allowed = !("NO_COLOR" in env) && env.TERM !== "dumb";
    this.color = picocolors.createColors(allowed && streams.stdout.isTTY === true);
    this.errorColor = picocolors.createColors(allowed && streams.stderr.isTTY === true);
  }

  /** Data for the user or a pipe (text or bytes, e.g. a WAV for `-o -`). */
  data(content: string | Uint8Array): void {
    this.stdout.write(content);
  }

  /** A log line on stderr (hidden by --quiet). */
  info(message: string): void {
    if (!this.quiet) this.stderr.write(`${message}\n`);
  }

  /** A debug line on stderr (shown with --verbose). */
  debug(message: string): void {
    if (this.verbose && !this.quiet) this.stderr.write(`${this.errorColor.dim(message)}\n`);
  }

  /** An error line on stderr (never hidden). */
  error(message: string): void {
    this.stderr.write(`${this.errorColor.red("error:")} ${message}\n`);
  }
}
