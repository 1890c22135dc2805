/**
 * The batch across processes on a Redis of the test's own (127.0.0.1, a free port): 200 tiny-bundle jobs, 3
 * `vall-e worker` processes, one killed with SIGKILL in the middle of a job — every job completes exactly once (one
 * DIR/<id>/ each, results.jsonl with each id once, all ok), the killed job returns to the queue and is done by another
 * worker, and each WAV equals what `vall-e batch` on one machine makes of the same line. Enqueuing the same manifest
 * again adds nothing.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { encodeWav } from "@vall-e/codec";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_OK } from "../src/exit-codes.js";
import { hasRedis, type Running, startRedis, startVallE, vallE } from "./processes.js";

const JOBS = 200;
const SLOW = 3;
const dir = tempDir("cli-worker-");
const env = { NO_COLOR: "1", XDG_CACHE_HOME: join(dir, "cache"), HF_HUB_OFFLINE: "1", VALL_E_MODEL_DIR: "" };
const out = join(dir, "out");
const manifest = join(dir, "manifest.jsonl");
const fast = '"maxSteps":2,"maxDuration":0.5,"language":"en","promptSeconds":0.5';

/** The first SLOW lines take seconds (a worker is killed in one of them); the rest a fraction of a second. */
const LINES = Array.from({ length: JOBS }, (_, i) =>
  i < SLOW
    ? `{"id":"slow-${i}","text":"Slow ${i}.","maxSteps":200,"maxDuration":1,"language":"en"}`
    : `{"id":"u${String(i).padStart(3, "0")}","text":"Word ${i}.",${i % 10 === 0 ? '"voice":"voice.wav",' : ""}${fast}}`,
);
const ids = LINES.map((line) => (JSON.parse(line) as { id: string }).id);
/** Compared with the single-machine batch: the slow ones and every tenth (some with a voice). */
const SAMPLE = [...ids.slice(0, SLOW), ...ids.filter((_, i) => i >= SLOW && i % 11 === 3).slice(0, 17)];

describe.skipIf(!hasRedis)("vall-e worker: 3 processes on one queue, one killed mid-job", () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const workers: Running[] = [];
  const single = join(dir, "single");

  beforeAll(async () => {
    redis = await startRedis(tempDir("cli-redis-"));
    writeFileSync(
      join(dir, "voice.wav"),
      encodeWav(
        Float32Array.from({ length: 12000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 180 * i) / 12000)),
        12000,
      ),
    );
    writeFileSync(manifest, `${LINES.join("\n")}\n`);
    // The same lines on one machine (and the tiny bundle made in the cache once, before the workers start).
    const sample = join(dir, "sample.jsonl");
    writeFileSync(sample, `${LINES.filter((_, i) => SAMPLE.includes(ids[i] as string)).join("\n")}\n`);
    const alone = await vallE(["batch", sample, "--out", single, "--model", "tiny", "-t", "1"], env);
    expect(alone.code, alone.stderr).toBe(EXIT_OK);
  }, 120_000);

  afterAll(async () => {
    for (const worker of workers) if (worker.running) worker.child.kill("SIGKILL");
    await Promise.all(workers.map((worker) => worker.exited.catch(() => undefined)));
    await redis?.stop();
  });

  it("enqueues each job once: the same manifest twice adds nothing", async () => {
    const once = await vallE(["batch", manifest, "--queue", redis.url, "--queue-name", "test"], env, 60_000);
    expect(once.code, once.stderr).toBe(EXIT_OK);
    expect(once.stderr).toContain(`queued ${JOBS} new job(s) on "test"`);
    const twice = await vallE(["batch", manifest, "--queue", redis.url, "--queue-name", "test"], env, 60_000);
    expect(twice.stderr).toContain(`queued 0 new job(s) on "test" at ${redis.url} (${JOBS} already in the queue`);
    const status = await vallE(["batch", "--queue", redis.url, "--queue-name", "test", "--status", "--json"], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ waiting: JOBS, active: 0, completed: 0, failed: 0 });
  });

  it("every job completes exactly once, the killed one on another worker; the WAVs equal one machine's", async () => {
    const started = Date.now();
    for (const name of ["w1", "w2", "w3"]) {
      workers.push(
        startVallE(
          [
            "-v",
            "worker",
            ...["--queue", redis.url, "--queue-name", "test", "--out", out, "--model", "tiny", "-t", "1"],
            ...["--lock-duration", "2000", "--stalled-interval", "1000", "--name", name],
          ],
          env,
          150_000,
        ),
      );
    }
    const waiter = startVallE(
      ["batch", manifest, "--queue", redis.url, "--queue-name", "test", "--wait", "--out", out],
      env,
      150_000,
    );
    // The first worker to start a slow job is killed half a second into it.
    const victim = await Promise.race(
      workers.map((w) => w.waitFor(/^start (slow-\d)/m, 60_000).then((m) => ({ w, id: m[1] as string }))),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(victim.w.stderr).not.toMatch(new RegExp(`^done ${victim.id}\\b`, "m"));
    victim.w.child.kill("SIGKILL");
    const waited = await waiter.exited;
    expect(waited.code, waited.stderr).toBe(EXIT_OK);
    const seconds = (Date.now() - started) / 1e3;

    // results.jsonl: each id once, in manifest order, all ok.
    const results = readFileSync(join(out, "results.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { id: string; status: string; line: number });
    expect(results.map((r) => r.id)).toEqual(ids);
    expect(results.every((r) => r.status === "ok")).toBe(true);
    // One folder per id, nothing staged left (the killed worker's half-written item was swept).
    expect(readdirSync(out).sort()).toEqual([...ids, ".partial", "results.jsonl"].sort());
    expect(readdirSync(join(out, ".partial"))).toEqual([]);
    // Each job completed once: 200 "done" lines over all three workers, the killed job's on a survivor.
    const logs = workers.map((w) => w.stderr);
    const done = logs.flatMap((log) => [...log.matchAll(/^done (\S+):/gm)].map((m) => m[1]));
    expect(done.length).toBe(JOBS);
    expect(new Set(done).size).toBe(JOBS);
    const survivors = workers.filter((w) => w !== victim.w);
    expect(survivors.some((w) => new RegExp(`^done ${victim.id}:`, "m").test(w.stderr))).toBe(true);
    expect(
      survivors.some((w) => new RegExp(`^start ${victim.id} \\(line \\d+, attempt 2\\)`, "m").test(w.stderr)),
    ).toBe(true);
    // The same audio as one machine makes of the same line and seed.
    for (const id of SAMPLE) {
      const here = readFileSync(join(out, id, "output.wav"));
      expect(here.equals(readFileSync(join(single, id, "output.wav"))), id).toBe(true);
    }
    const status = await vallE(["batch", "--queue", redis.url, "--queue-name", "test", "--status", "--json"], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ waiting: 0, active: 0, delayed: 0, completed: JOBS, failed: 0 });
    console.log(`${JOBS} jobs on 3 workers (one killed) in ${seconds.toFixed(1)} s`);
  }, 160_000);

  it("enqueuing the done manifest again runs nothing; SIGTERM stops the workers cleanly", async () => {
    const again = await vallE(["batch", manifest, "--queue", redis.url, "--queue-name", "test"], env, 60_000);
    expect(again.stderr).toContain(`queued 0 new job(s) on "test" at ${redis.url} (${JOBS} already in the queue`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const survivors = workers.filter((w) => w.running);
    expect(survivors.length).toBe(2);
    const before = survivors.map((w) => (w.stderr.match(/^done /gm) ?? []).length);
    const ended = await Promise.all(survivors.map((w) => w.stop()));
    for (const [i, end] of ended.entries()) {
      expect(end.code, end.stderr).toBe(143); // 128 + SIGTERM, after a clean stop
      expect(end.stderr).toContain("stopping after the running job(s)");
      expect((end.stderr.match(/^done /gm) ?? []).length).toBe(before[i]);
    }
    expect(existsSync(join(out, ".partial"))).toBe(true);
  }, 60_000);

  it("a job that cannot succeed fails at once with its code; enqueued again once fixed, it is retried", async () => {
    const voice = join(dir, "changing.wav");
    const original = readFileSync(join(dir, "voice.wav"));
    writeFileSync(voice, original);
    const small = join(dir, "small.jsonl");
    writeFileSync(
      small,
      `{"id":"v1","text":"With a voice.","voice":"changing.wav",${fast}}\n{"id":"v2","text":"Without.",${fast}}\n`,
    );
    const queue = ["--queue", redis.url, "--queue-name", "errors"];
    const smallOut = join(dir, "small-out");
    const waiter = startVallE(["batch", small, ...queue, "--wait", "--out", smallOut], env, 60_000);
    await waiter.waitFor(/queued 2 new job\(s\)/);
    // The voice file changes after the job was made: the job's SHA-256 no longer matches.
    writeFileSync(voice, Buffer.concat([original, Buffer.alloc(2)]));
    const worker = startVallE(["worker", ...queue, "--out", smallOut, "--model", "tiny", "-t", "1"], env, 120_000);
    workers.push(worker);
    const failed = await waiter.exited;
    expect(failed.code, failed.stderr).toBe(1);
    const lines = readFileSync(join(smallOut, "results.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((r) => [r.line, r.id, r.status, r.code])).toEqual([
      [1, "v1", "error", "ERR_VOICE_CHANGED"],
      [2, "v2", "ok", undefined],
    ]);
    expect(lines[0].message).toBe(
      `The voice file ${voice} changed since the job was made (its SHA-256 differs): make the job again (vall-e batch)`,
    );
    // Failed at once, not retried.
    expect(worker.stderr.match(/^error: v1: /gm)?.length).toBe(1);
    expect(worker.stderr).not.toContain("to be retried");
    // The file as it was: enqueuing the manifest again retries the failed job (and only it).
    writeFileSync(voice, original);
    const again = await vallE(["batch", small, ...queue, "--wait", "--out", smallOut], env, 60_000);
    expect(again.code, again.stderr).toBe(EXIT_OK);
    expect(again.stderr).toContain("queued 0 new job(s)");
    expect(again.stderr).toContain("1 failed one(s) retried");
    expect((worker.stderr.match(/^done /gm) ?? []).length).toBe(2);
    const end = await worker.stop();
    expect(end.code).toBe(143);
  }, 90_000);
});
