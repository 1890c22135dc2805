// Vitest globalSetup of every package: the run's temporary files go into one sandbox directory (TMPDIR, inherited by
// the test workers and every process they spawn), removed when the run ends — also when it is interrupted (SIGINT,
// SIGTERM) — so a run leaves the system's temporary directory as it found it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup() {
  const previous = process.env.TMPDIR;
  const sandbox = mkdtempSync(join(tmpdir(), "vall-e-test-run-"));
  process.env.TMPDIR = sandbox;
  const remove = () => rmSync(sandbox, { recursive: true, force: true });
  const onSignal = (signal) => {
    remove();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.kill(process.pid, signal); // as if unhandled: the runner ends the way it would have
  };
  process.once("exit", remove);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return () => {
    remove();
    process.off("exit", remove);
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  };
}
