#!/usr/bin/env node
// `vall-e-test-sandbox <command…>` — every package's `test` script: runs the test runner with TMPDIR set to a fresh
// sandbox directory and removes the sandbox once the runner has ended — also when the run is interrupted (SIGINT,
// SIGTERM, SIGHUP), so an interrupted suite leaves the system's temporary directory as it found it.
//
// The runner stays in this process's group, so a terminal's Ctrl-C or a task runner's signal reaches it (and its
// workers) directly. Removing the sandbox before the runner's processes are gone would race with them (a worker that
// makes a folder recursively would make the sandbox again), so it is removed when the runner has exited: by this
// process, or — when this process is killed outright (turbo ends an interrupted task's process group with SIGKILL) —
// by a small detached guard that waits for this process and the runner to be gone.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
};

if (process.argv[2] === "--guard") {
  // The guard: `--guard <sandbox> <pid>…` removes the sandbox once none of the pids is alive.
  const [sandbox, ...pids] = process.argv.slice(3);
  const timer = setInterval(() => {
    if (pids.some((pid) => alive(Number(pid)))) return;
    clearInterval(timer);
    setTimeout(() => rmSync(sandbox, { recursive: true, force: true }), 500); // the runner's last writes
  }, 250);
} else {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    process.stderr.write("usage: vall-e-test-sandbox <command> [args…]\n");
    process.exit(2);
  }
  const sandbox = mkdtempSync(join(tmpdir(), "vall-e-test-run-"));
  const child = spawn(command, args, {
    stdio: "inherit",
    env: { ...process.env, TMPDIR: sandbox, TMP: sandbox, TEMP: sandbox },
  });
  spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), "--guard", sandbox, String(process.pid), String(child.pid)],
    {
      detached: true,
      stdio: "ignore",
    },
  ).unref();
  let interrupted;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      interrupted ??= signal;
      child.kill(signal); // also when only this process was signalled
    });
  }
  child.on("error", (error) => {
    process.stderr.write(`vall-e-test-sandbox: cannot run ${command}: ${error.message}\n`);
    rmSync(sandbox, { recursive: true, force: true });
    process.exit(127);
  });
  child.on("exit", (code, signal) => {
    rmSync(sandbox, { recursive: true, force: true });
    const ended = interrupted ?? signal;
    if (ended) {
      process.removeAllListeners(ended);
      process.kill(process.pid, ended); // end the way the runner did
      return;
    }
    process.exit(code ?? 1);
  });
}
