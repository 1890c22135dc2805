/**
 * `vall-e worker --queue redis://HOST:PORT/N --out DIR [--model PATH|tiny] [--concurrency 1] [-t N] [--voices DIR]`:
 * take the jobs `vall-e batch --queue` enqueued and speak them into DIR (shared storage when workers run on several
 * machines), one at a time by default, on one Engine loaded once. Ctrl-C or SIGTERM stops it after the running job
 * (a second one quits at once; the job then returns to the queue when its lock expires).
 */

import type { QueueLocation } from "@vall-e/batch";
import { DEFAULT_LOCK_DURATION_MS, DEFAULT_QUEUE_NAME, DEFAULT_STALLED_INTERVAL_MS } from "@vall-e/batch/constants";
import { VallEError } from "@vall-e/core";
import { Command } from "commander";
import type { CommandContext } from "../context.js";
import { deviceLoadOption, deviceOption } from "../io/device-option.js";
import { addModelOptions, engineRoles, type ModelFlags, resolveModelFiles } from "../io/model-files.js";
import { parseInteger, parseThreads } from "../io/options.js";
import { VOICES_HELP } from "./batch.js";

interface WorkerFlags extends ModelFlags {
  device?: string;
  queue: string;
  queueName: string;
  out: string;
  voices?: string;
  threads?: number;
  concurrency: number;
  lockDuration: number;
  stalledInterval: number;
  name?: string;
}

export function workerCommand(context: CommandContext): Command {
  const command = new Command("worker")
    .description("speak the jobs of a queue (vall-e batch --queue) into DIR, one Engine for all of them")
    .requiredOption("--queue <url>", "the Redis of the queue: redis://HOST:PORT/N")
    .option("--queue-name <name>", "the queue's name", DEFAULT_QUEUE_NAME)
    .requiredOption("-o, --out <dir>", "the output folder (the same shared folder on every machine)")
    .option("--voices <dir>", VOICES_HELP)
    .option("--concurrency <n>", "jobs at once in this process", parseInteger("--concurrency", 1, 64), 1)
    .option("-t, --threads <n>", "threads of the engine (default: the physical cores)", parseThreads)
    .addOption(deviceOption())
    .option(
      "--lock-duration <ms>",
      "a job's lock lasts this long unrenewed; a killed worker's job returns to the queue after it",
      parseInteger("--lock-duration", 500, 3_600_000),
      DEFAULT_LOCK_DURATION_MS,
    )
    .option(
      "--stalled-interval <ms>",
      "how often to look for stalled jobs (expired locks)",
      parseInteger("--stalled-interval", 100, 3_600_000),
      DEFAULT_STALLED_INTERVAL_MS,
    )
    .option("--name <name>", "the worker's name, kept on the jobs it runs (default: <host>-<pid>)");
  addModelOptions(command, ["lm", "codec", "tokenizer", "vocos"]);
  return command.action(async (flags: WorkerFlags) => {
    const { output } = context;
    const [batch, pipeline] = await Promise.all([import("@vall-e/batch"), import("@vall-e/pipeline")]);
    let location: QueueLocation;
    try {
      location = batch.checkQueueLocation(flags.queue, flags.queueName);
    } catch (error) {
      throw new VallEError(
        "ERR_USAGE",
        (error as Error).message
          .replace(" for queue name,", " for --queue-name,")
          .replace(" for queue,", " for --queue,"),
      );
    }
    await batch.checkRedis(location.url);
    const resolved = await resolveModelFiles(context, flags, engineRoles(flags));
    await using engine = await pipeline.Engine.load({
      models: resolved.files,
      decoder: flags.vocoder ?? "vocos",
      ...(flags.threads === undefined ? {} : { threads: flags.threads }),
      ...deviceLoadOption(flags.device),
      signal: context.signal,
    });
    let lastError = "";
    const worker = await batch.BatchWorker.start({
      location,
      out: flags.out,
      engine,
      ...(flags.voices === undefined ? {} : { voicesDir: flags.voices }),
      concurrency: flags.concurrency,
      lockDurationMs: flags.lockDuration,
      stalledIntervalMs: flags.stalledInterval,
      ...(flags.name === undefined ? {} : { name: flags.name }),
      onEvent: (event) => {
        switch (event.type) {
          case "started":
            output.debug(`start ${event.job.id} (line ${event.job.line}, attempt ${event.attempt})`);
            break;
          case "completed":
            output.info(
              event.result.resumed
                ? `done ${event.job.id}: already in ${flags.out}`
                : `done ${event.job.id}: ${event.result.seconds.toFixed(2)} s of audio in ${event.elapsed.toFixed(2)} s`,
            );
            break;
          case "failed":
            output.error(
              `${event.job?.id ?? event.jobId}: ${event.message} [${event.code}]${event.final ? "" : " (to be retried)"}`,
            );
            break;
          case "stalled":
            output.info(`job ${event.jobId} stalled (its worker stopped): back in the queue`);
            break;
          case "error":
            // A lost connection repeats itself until Redis is back: say it once.
            if (event.error.message !== lastError) output.error(`queue: ${event.error.message}`);
            lastError = event.error.message;
            break;
        }
      },
    });
    output.info(
      `worker ${worker.name}: taking jobs from "${location.name}" at ${batch.displayUrl(location.url)} into ${flags.out} (${flags.concurrency} at a time); Ctrl-C or SIGTERM stops it`,
    );
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      context.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    output.info(`worker ${worker.name}: stopping after the running job(s)…`);
    await worker.close();
    const { completed, failed } = worker.counts;
    output.info(`worker ${worker.name}: ${completed} job(s) done, ${failed} failed attempt(s)`);
  });
}
