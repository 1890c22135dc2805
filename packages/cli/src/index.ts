/**
 * @vall-e/cli — the `vall-e` command. Use it from a shell; this entry exists so the CLI can be embedded and tested.
 */
export { collectDoctorReport, type DoctorReport } from "./commands/doctor.js";
export type { CommandContext } from "./context.js";
export { EXIT_CANCELLED, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, exitCodeFor } from "./exit-codes.js";
export { Output, type OutputStreams } from "./output.js";
export { createProgram } from "./program.js";
export { type RunOptions, run, runStage } from "./run.js";
