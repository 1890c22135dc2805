/**
 * The entry point: parses argv, runs the command, and turns every outcome into an exit code in one place.
 * Ctrl-C aborts the running command's signal and exits 130 once it has cleaned up; a second Ctrl-C exits at once.
 * SIGTERM and SIGHUP do the same, exiting 143 and 129 (128 + the signal's number), as shells expect.
 */
import { type Command, CommanderError } from "commander";
import type { CommandContext } from "./context.js";
import { EXIT_CANCELLED, EXIT_OK, EXIT_USAGE, exitCodeFor } from "./exit-codes.js";
import { haltProgress, resumeProgress } from "./io/progress.js";
import { Output, type OutputStreams } from "./output.js";
import { createProgram } from "./program.js";

export interface RunOptions {
  streams?: OutputStreams;
  env?: NodeJS.ProcessEnv;
  /** Listen for SIGINT (default true; tests running in-process turn it off). */
  handleSignals?: boolean;
}

const HANDLED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const SIGNAL_EXIT_CODES = { SIGINT: EXIT_CANCELLED, SIGTERM: 143, SIGHUP: 129 } as const;

/** Run the CLI with `argv` (as process.argv: node, script, ...args); resolves to the exit code. */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<number> {
  const output = new Output(options.streams ?? { stdout: process.stdout, stderr: process.stderr }, options.env);
  const controller = new AbortController();
  resumeProgress();
  let exitCode = EXIT_OK;
  const context: CommandContext = {
    output,
    signal: controller.signal,
    setExitCode: (code) => {
      exitCode = code;
    },
  };

  let interrupts = 0;
  let cancelledCode = EXIT_CANCELLED;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    const code = SIGNAL_EXIT_CODES[signal as keyof typeof SIGNAL_EXIT_CODES] ?? EXIT_CANCELLED;
    if (interrupts > 1) process.exit(code);
    cancelledCode = code;
    // On a terminal the progress bar owns the line: clear it (for good) so the message starts a clean line.
    haltProgress();
    output.info(
      signal === "SIGINT"
        ? "interrupted: cleaning up (Ctrl-C again to quit now)"
        : `interrupted by ${signal}: cleaning up`,
    );
    controller.abort();
  };
  const handleSignals = options.handleSignals ?? true;
  if (handleSignals) for (const signal of HANDLED_SIGNALS) process.on(signal, onSignal);
  // A reader that stops early (`vall-e decode x -o - | head`) is not an error: stop quietly.
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(EXIT_OK);
    throw error;
  };
  if (output.stdout === process.stdout) process.stdout.on("error", onStdoutError);

  const program = createProgram(context);
  // Commander settings are not inherited by commands added with addCommand(): apply them to every command, so
  // that no command calls process.exit() itself and every message goes through `output`.
  const configure = (command: Command): void => {
    command
      .exitOverride()
      .showHelpAfterError("(run with --help for usage)")
      .configureOutput({
        writeOut: (text) => output.data(text),
        writeErr: (text) => output.stderr.write(text),
      });
    for (const sub of command.commands) configure(sub);
  };
  configure(program);
  try {
    await program.parseAsync(argv);
    return controller.signal.aborted ? cancelledCode : exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" to commander; commander has already printed its message.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (controller.signal.aborted) return cancelledCode;
    output.error(error instanceof Error ? error.message : String(error));
    if (output.verbose && error instanceof Error && error.stack) output.debug(error.stack);
    return exitCodeFor(error);
  } finally {
    if (handleSignals) for (const signal of HANDLED_SIGNALS) process.off(signal, onSignal);
  }
}

/**
 * A per-stage command (`vall-e-codec encode …`): the named subcommands of `vall-e`, and nothing else.
 */
export async function runStage(
  name: string,
  subcommands: readonly string[],
  argv: readonly string[],
  options: RunOptions = {},
): Promise<number> {
  const [node = "node", , sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h" || !subcommands.includes(sub)) {
    const stream = options.streams?.stderr ?? process.stderr;
    const usage = `Usage: ${name} <${subcommands.join("|")}> [options]\n(run ${name} <command> --help for its options)\n`;
    if (sub === "--help" || sub === "-h") {
      (options.streams?.stdout ?? process.stdout).write(usage);
      return EXIT_OK;
    }
    stream.write(`error: ${sub === undefined ? "missing command" : `unknown command '${sub}'`}\n${usage}`);
    return EXIT_USAGE;
  }
  return run([node, "vall-e", sub, ...rest], options);
}
