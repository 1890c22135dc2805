/**
 * Batch throughput on the tiny bundle, loopback only and bounded (a few tens of seconds): N short utterances
 * (maxSteps 2, maxDuration 0.5 s) spoken by runBatch in this process (one Engine), then through a BullMQ queue on a
 * redis-server of its own (127.0.0.1, a free port) by 1, 2 and 3 worker processes (one thread each). Reports
 * utterances per minute, the speed-up over one worker, and the queue's overhead per job (1 worker vs runBatch).
 * Every WAV of every run must equal runBatch's, byte for byte.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BenchRow, report } from "@tooling/bench";
import { Engine, tinyBundle } from "@vall-e/pipeline";
import {
  type BatchJob,
  enqueueJobs,
  makeJob,
  OutputStore,
  parseManifestLine,
  runBatch,
  waitForJobs,
} from "../src/index.js";

const JOBS = Number(process.env.BENCH_JOBS ?? 100);
const WORKERS = [1, 2, 3];
const here = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), "vall-e-batch-bench-"));
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** A child process, and a promise of the first time `pattern` appears on its stdout. */
function start(command: string, args: string[], pattern: RegExp): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(command, args, { cwd: join(here, ".."), stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  let seen = "";
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command}: no ${pattern} in 60 s`)), 60_000);
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      seen += chunk;
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => reject(new Error(`${command} exited (${code}) before ${pattern}`)));
  });
  return { child, ready };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.on("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

try {
  const tiny = await tinyBundle(join(work, "tiny"));
  const port = await freePort();
  const redis = start(
    "redis-server",
    ["--save", "", "--appendonly", "no", "--bind", "127.0.0.1", "--port", String(port), "--dir", work],
    /Ready to accept connections/,
  );
  await redis.ready;
  const url = `redis://127.0.0.1:${port}/0`;

  const jobs: BatchJob[] = Array.from({ length: JOBS }, (_, i) => {
    const line = JSON.stringify({
      id: `b${i}`,
      text: `Bench item ${i}.`,
      maxSteps: 2,
      maxDuration: 0.5,
      language: "en",
    });
    const parsed = parseManifestLine(line, i + 1);
    if (!parsed.ok) throw new Error(parsed.message);
    return makeJob(parsed.value, undefined);
  });

  // One machine: runBatch on a loaded engine (a warm-up item first, not timed).
  const engine = await Engine.load({
    models: { lm: tiny.lm, codec: tiny.codec, tokenizer: tiny.tokenizer },
    threads: 1,
  });
  const warm = await OutputStore.open(join(work, "warm"));
  await runBatch({ path: "", jobs: jobs.slice(0, 1), failures: [] }, { store: warm, engine: async () => engine });
  const localStore = await OutputStore.open(join(work, "local"));
  const t0 = performance.now();
  const local = await runBatch({ path: "", jobs, failures: [] }, { store: localStore, engine: async () => engine });
  const localSeconds = (performance.now() - t0) / 1e3;
  await engine.dispose();
  if (local.some((r) => r.status !== "ok")) throw new Error("runBatch failed");

  const rows: BenchRow[] = [
    {
      name: `runBatch, one engine in this process (${JOBS} utterances)`,
      params: { jobs: JOBS, workers: 0 },
      metrics: { utterancesPerMinute: (JOBS / localSeconds) * 60, msPerJob: (localSeconds / JOBS) * 1e3 },
    },
  ];
  let oneWorker = Number.NaN;
  let mismatched = 0;
  for (const count of WORKERS) {
    const name = `bench-${count}`;
    const out = join(work, `queue-${count}`);
    const workers = Array.from({ length: count }, () =>
      start(
        process.execPath,
        ["--import", "tsx", join(here, "worker.ts"), url, name, out, tiny.lm, tiny.codec, tiny.tokenizer],
        /ready/,
      ),
    );
    await Promise.all(workers.map((w) => w.ready));
    const start1 = performance.now();
    await enqueueJobs({ url, name }, jobs);
    const outcomes = await waitForJobs({ url, name }, jobs, { intervalMs: 20 });
    const seconds = (performance.now() - start1) / 1e3;
    await Promise.all(workers.map((w) => stop(w.child)));
    if ([...outcomes.values()].some((o) => o.state !== "completed")) throw new Error(`${count} workers: a job failed`);
    for (const job of jobs) {
      const a = readFileSync(join(out, job.id, "output.wav"));
      if (!a.equals(readFileSync(join(localStore.dir, job.id, "output.wav")))) mismatched++;
    }
    if (count === 1) oneWorker = seconds;
    rows.push({
      name: `queue, ${count} worker process${count === 1 ? "" : "es"} (1 thread each)`,
      params: { jobs: JOBS, workers: count },
      metrics: {
        utterancesPerMinute: (JOBS / seconds) * 60,
        msPerJob: (seconds / JOBS) * 1e3,
        speedupVsOneWorker: oneWorker / seconds,
        ...(count === 1 ? { queueOverheadMsPerJob: ((seconds - localSeconds) / JOBS) * 1e3 } : {}),
      },
    });
  }
  report("batch", rows, { jobs: JOBS, maxSteps: 2, maxDuration: 0.5, model: "tiny", mismatchedWavs: mismatched });
  if (mismatched > 0) process.exitCode = 1;
  await stop(redis.child);
} finally {
  await Promise.all(children.map(stop));
  rmSync(work, { recursive: true, force: true });
}
