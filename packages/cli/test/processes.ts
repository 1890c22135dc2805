/**
 * Child processes for the batch tests: `vall-e …` run asynchronously (never spawnSync for long runs) with a time limit,
 * long-running ones whose output can be watched, and a private redis-server on 127.0.0.1 at a free port.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeWav } from "@vall-e/codec";

export const bin = fileURLToPath(new URL("../bin/vall-e.js", import.meta.url));

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A process started, with its output so far and a promise of its end. */
export class Running {
  readonly child: ChildProcess;
  stdout = "";
  stderr = "";
  readonly exited: Promise<Finished>;

  constructor(command: string, args: readonly string[], env: NodeJS.ProcessEnv, limitMs: number, cwd?: string) {
    this.child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"], ...(cwd ? { cwd } : {}) });
    this.child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    const timer = setTimeout(() => this.child.kill("SIGKILL"), limitMs);
    this.exited = new Promise((resolve, reject) => {
      this.child.on("error", reject);
      this.child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves when `pattern` appears on stderr (rejects after `limitMs` or when the process ends first). */
  waitFor(pattern: RegExp, limitMs = 30_000): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const look = () => {
        const match = pattern.exec(this.stderr);
        if (match) return resolve(match);
        if (!this.running) return reject(new Error(`exited before ${pattern}:\n${this.stderr}`));
        if (Date.now() - started > limitMs)
          return reject(new Error(`no ${pattern} within ${limitMs} ms:\n${this.stderr}`));
        setTimeout(look, 20);
      };
      look();
    });
  }

  /** Stop it (SIGTERM, then SIGKILL after `graceMs`) and wait for its end. */
  async stop(graceMs = 10_000): Promise<Finished> {
    if (this.running) this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The environment of a CLI run that reaches no network: a private cache under `dir`, no model directory. */
export function offlineEnv(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NO_COLOR: "1",
    HF_HUB_OFFLINE: "1",
    XDG_CACHE_HOME: join(dir, "cache"),
    VALL_E_MODEL_DIR: "",
    ...extra,
  };
}

/** A voice to clone in tests: a WAV of a sine, `samples` long at `rate`, phase step `1 / period` per sample. */
export function writeSineWav(path: string, samples: number, rate: number, period: number): string {
  writeFileSync(
    path,
    encodeWav(
      Float32Array.from({ length: samples }, (_, i) => 0.3 * Math.sin(i / period)),
      rate,
    ),
  );
  return path;
}

/** `vall-e …` as a process. */
export function startVallE(args: readonly string[], env: NodeJS.ProcessEnv, limitMs = 120_000): Running {
  return new Running(process.execPath, [bin, ...args], { ...process.env, ...env }, limitMs);
}

/** `vall-e …` to its end. */
export function vallE(args: readonly string[], env: NodeJS.ProcessEnv, limitMs = 120_000): Promise<Finished> {
  return startVallE(args, env, limitMs).exited;
}

/** `vall-e …` to its end, run in the folder `cwd` (relative paths are the user's, as a shell would give them). */
export function vallEIn(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv, limitMs = 120_000) {
  return new Running(process.execPath, [bin, ...args], { ...process.env, ...env }, limitMs, cwd).exited;
}

/** Whether redis-server is installed. */
export const hasRedis = spawnSync("redis-server", ["--version"], { timeout: 5000 }).status === 0;

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** A redis-server of the test's own, on 127.0.0.1, nothing saved, its files in `dir`. */
export async function startRedis(dir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const args = ["--save", "", "--appendonly", "no", "--bind", "127.0.0.1", "--port", String(port), "--dir", dir];
  const server = new Running("redis-server", args, process.env, 30 * 60_000);
  const ready = () =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const look = () => {
        if (/Ready to accept connections/.test(server.stdout)) return resolve();
        if (!server.running) return reject(new Error(`redis-server exited:\n${server.stdout}${server.stderr}`));
        if (Date.now() - started > 10_000) return reject(new Error(`redis-server not ready:\n${server.stdout}`));
        setTimeout(look, 20);
      };
      look();
    });
  await ready();
  return {
    url: `redis://127.0.0.1:${port}/0`,
    stop: async () => {
      await server.stop(5000);
    },
  };
}
