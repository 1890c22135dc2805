/**
 * Load test of the server (loopback only, bounded): 50 speech requests from 8 concurrent clients on the tiny bundle,
 * 2 generation slots and a queue of 4. A request the queue refuses (503) is retried by its client after a short
 * pause (at most 100 times), as a client honouring Retry-After would; none may be lost or corrupted — every WAV must
 * equal the same request run alone with the same seed. Reports p50/p95 latency (first try to answer), throughput,
 * the 503s answered, and the RSS after a concurrent warm-up round and at the end.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BenchRow, median, report } from "@tooling/bench";
import { tinyBundle } from "@vall-e/pipeline";
import { startServer } from "../src/serve.js";

const work = mkdtempSync(join(tmpdir(), "vall-e-server-bench-"));
const REQUESTS = 50;
const CLIENTS = 8;
try {
  const tiny = await tinyBundle(join(work, "tiny"));
  const server = await startServer({
    models: { lm: tiny.lm, codec: tiny.codec, tokenizer: tiny.tokenizer },
    port: 0,
    voicesDir: join(work, "voices"),
    limits: { slots: 2, queue: 4 },
  });
  await server.ready;
  const body = (i: number) => ({
    model: "vall-e",
    input: `Request ${i % 5}. It has two sentences.`,
    seed: i % 5,
    max_steps: 8,
    language: "en",
  });
  const speak = async (i: number) => {
    const response = await fetch(`${server.url}/v1/audio/speech`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body(i)),
    });
    return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
  };
  // The same 5 distinct requests alone: what every answer must equal.
  const alone: Buffer[] = [];
  for (let i = 0; i < 5; i++) alone.push((await speak(i)).bytes);
  // Warm-up at the load's concurrency (contexts and buffers of both slots), then the RSS to compare with.
  await Promise.all(Array.from({ length: 6 }, (_, i) => speak(i)));
  const rssWarm = process.memoryUsage().rss / 1e6;

  const latencies: number[] = [];
  let refused = 0;
  let corrupted = 0;
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        const t0 = performance.now();
        let answer = await speak(i);
        for (let retry = 0; answer.status === 503 && retry < 100; retry++) {
          refused++;
          await new Promise((resolve) => setTimeout(resolve, 100));
          answer = await speak(i);
        }
        if (answer.status !== 200 || !answer.bytes.equals(alone[i % 5] as Buffer)) corrupted++;
        else latencies.push((performance.now() - t0) / 1e3);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1e3;
  const rssEnd = process.memoryUsage().rss / 1e6;
  await server.close();
  const sorted = [...latencies].sort((a, b) => a - b);
  const rows: BenchRow[] = [
    {
      name: `server: ${REQUESTS} requests from ${CLIENTS} clients (tiny bundle, 2 slots, queue 4)`,
      params: { requests: REQUESTS, clients: CLIENTS },
      metrics: {
        completed: latencies.length,
        refused503: refused,
        lostOrCorrupted: corrupted,
        p50Seconds: median(sorted),
        p95Seconds: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? Number.NaN,
        requestsPerSecond: latencies.length / seconds,
        rssWarmMB: rssWarm,
        rssEndMB: rssEnd,
      },
    },
  ];
  report("server", rows, {});
  if (corrupted > 0 || latencies.length !== REQUESTS) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
