/**
 * `vall-e batch MANIFEST.jsonl --out DIR [--model PATH|tiny] [-t N] [--voices DIR]`: speak every line of a JSON Lines
 * manifest (`{ "id", "text", "voice"?, "seed"?, …settings }`) on this machine, on one Engine, into DIR/<id>/ — resumable
 * (an item already done is skipped), each item written atomically, one result per line in DIR/results.jsonl; exit 1
 * when a line failed. With `--queue redis://HOST:PORT/N` the lines are checked and enqueued for `vall-e worker`s
 * instead; `--wait --out DIR` then waits for them and writes DIR/results.jsonl; `--status` prints the queue's counts.
 */
import type { BatchResult, Manifest, OutputStore } from "@vall-e/batch";
import { DEFAULT_QUEUE_NAME } from "@vall-e/batch/constants";
import { VallEError } from "@vall-e/core";
import type { Engine } from "@vall-e/pipeline";
import { Command } from "commander";
import type { CommandContext } from "../context.js";
import { EXIT_FAILURE } from "../exit-codes.js";
import { deviceLoadOption, deviceOption } from "../io/device-option.js";
import { addModelOptions, engineRoles, type ModelFlags, resolveModelFiles } from "../io/model-files.js";
import { parseThreads } from "../io/options.js";
import { formatDuration, progressBar } from "../io/progress.js";

interface BatchFlags extends ModelFlags {
  device?: string;
  out?: string;
  queue?: string;
  queueName: string;
  status?: boolean;
  wait?: boolean;
  json?: boolean;
  voices?: string;
  threads?: number;
}

export const VOICES_HELP =
  "the voice library, for lines whose voice is a voice id or name (default: VALL_E_VOICES_DIR or ~/.local/share/vall-e/voices)";

/** A queue location from the flags, the message naming the flag. */
async function queueFrom(flags: { queue?: string; queueName: string }) {
  const batch = await import("@vall-e/batch");
  try {
    return batch.checkQueueLocation(flags.queue, flags.queueName);
  } catch (error) {
    throw new VallEError(
      "ERR_USAGE",
      (error as Error).message
        .replace(" for queue name,", " for --queue-name,")
        .replace(" for queue,", " for --queue,"),
    );
  }
}

export function batchCommand(context: CommandContext): Command {
  const command = new Command("batch")
    .description(
      "speak a JSONL manifest ({ id, text, voice?, seed?, …settings } per line) into DIR/<id>/, resumable; or enqueue it for vall-e worker (--queue)",
    )
    .argument("[manifest]", "the manifest: JSON Lines, one item per line (voice paths relative to its folder)")
    .option("-o, --out <dir>", "the output folder: DIR/<id>/output.wav and run.json, DIR/results.jsonl")
    .option("--queue <url>", "enqueue on this Redis (redis://HOST:PORT/N) for vall-e worker instead of speaking here")
    .option("--queue-name <name>", "the queue's name", DEFAULT_QUEUE_NAME)
    .option("--wait", "with --queue: wait until every job of the manifest has finished, then write DIR/results.jsonl")
    .option("--status", "with --queue: print the queue's counts (waiting, active, delayed, completed, failed)")
    .option("--json", "--status as JSON")
    .option("--voices <dir>", VOICES_HELP)
    .option("-t, --threads <n>", "threads of the engine (default: the physical cores)", parseThreads)
    .addOption(deviceOption());
  addModelOptions(command, ["lm", "codec", "tokenizer", "vocos"]);
  return command.action(async (manifestPath: string | undefined, flags: BatchFlags, self: Command) => {
    const usage = (message: string) => new VallEError("ERR_USAGE", message);
    if (flags.status) {
      if (flags.queue === undefined) throw usage("--status shows a queue: give --queue redis://HOST:PORT/N");
      await printStatus(context, flags);
      return;
    }
    if (manifestPath === undefined) throw usage("Give the manifest: vall-e batch MANIFEST.jsonl --out DIR");
    if (flags.queue === undefined) {
      if (flags.wait)
        throw usage("--wait is for --queue (on one machine, vall-e batch speaks every line before it exits)");
      if (flags.out === undefined) throw usage("Give the output folder: --out DIR");
    } else {
      const engineFlags = ["model", "codec", "tokenizer", "quant", "threads"].filter(
        (name) => self.getOptionValueSource(name) === "cli",
      );
      if (engineFlags.length > 0) {
        throw usage(
          `${engineFlags.map((name) => `--${name}`).join(", ")}: with --queue the workers speak (vall-e worker --model …)`,
        );
      }
      if (flags.wait && flags.out === undefined) {
        throw usage("--wait writes DIR/results.jsonl: give --out DIR (the folder the workers write to)");
      }
    }
    const location = flags.queue === undefined ? undefined : await queueFrom(flags);
    const batch = await import("@vall-e/batch");
    const manifest = await batch.readManifest(
      manifestPath,
      flags.voices === undefined ? {} : { voicesDir: flags.voices },
    );
    for (const failure of manifest.failures) {
      context.output.error(
        `line ${failure.line}${failure.id === undefined ? "" : ` (${failure.id})`}: ${failure.message} [${failure.code}]`,
      );
    }
    const lines = manifest.jobs.length + manifest.failures.length;
    if (location === undefined) {
      await speakHere(context, flags, manifest, flags.out as string);
      return;
    }
    await batch.checkRedis(location.url);
    const queued = await batch.enqueueJobs(location, manifest.jobs);
    context.output.info(
      `queued ${queued.added} new job(s) on "${location.name}" at ${batch.displayUrl(location.url)}` +
        ` (${queued.existing} already in the queue${queued.retried > 0 ? `, ${queued.retried} failed one(s) retried` : ""}; ${manifest.failures.length} of ${lines} line(s) refused)`,
    );
    if (!flags.wait) {
      if (manifest.failures.length > 0) context.setExitCode(EXIT_FAILURE);
      return;
    }
    const store = await batch.OutputStore.open(flags.out as string);
    const bar = await countBar(context, "waiting");
    let outcomes: Awaited<ReturnType<typeof batch.waitForJobs>>;
    const started = performance.now();
    try {
      outcomes = await batch.waitForJobs(location, manifest.jobs, {
        signal: context.signal,
        onProgress: (finished, total) => bar.update({ finished, total, started }),
      });
    } finally {
      bar.stop();
    }
    const results: BatchResult[] = manifest.failures.map(batch.errorResult);
    for (const job of manifest.jobs) {
      const outcome = outcomes.get(job.key) ?? { state: "missing" as const };
      if (outcome.state === "failed") {
        results.push(batch.errorResult({ line: job.line, id: job.id, code: outcome.code, message: outcome.message }));
        continue;
      }
      const item = await store.verify(job);
      if (item) {
        const resumed = outcome.state === "completed" && outcome.result.resumed;
        results.push(batch.okResult(job.line, item, resumed));
      } else {
        results.push(
          batch.errorResult({
            line: job.line,
            id: job.id,
            code: "ERR_OUTPUT_MISSING",
            message:
              outcome.state === "completed"
                ? `The job completed (on ${outcome.result.worker}) but ${store.itemDir(job.id)} is missing or does not verify: do the workers write to this --out?`
                : "The job is not in the queue (removed?) and its output is not in --out: enqueue the manifest again",
          }),
        );
      }
    }
    await finish(context, store, batch.byLine(results));
  });
}

/** On this machine: one engine (loaded only when something is left to do), every line, results.jsonl. */
async function speakHere(context: CommandContext, flags: BatchFlags, manifest: Manifest, out: string): Promise<void> {
  const [batch, pipeline] = await Promise.all([import("@vall-e/batch"), import("@vall-e/pipeline")]);
  const store = await batch.OutputStore.open(out);
  const { output } = context;
  const bar = output.quiet || output.stderr.isTTY !== true ? undefined : await countBar(context, "batch");
  const started = performance.now();
  let engine: Engine | undefined;
  try {
    const results = await batch.runBatch(manifest, {
      store,
      engine: async () => {
        bar?.stop(); // the download bar, if any, has the line
        const resolved = await resolveModelFiles(context, flags, engineRoles(flags));
        engine = await pipeline.Engine.load({
          models: resolved.files,
          decoder: flags.vocoder ?? "vocos",
          ...(flags.threads === undefined ? {} : { threads: flags.threads }),
          ...deviceLoadOption(flags.device),
          signal: context.signal,
        });
        return engine;
      },
      ...(flags.voices === undefined ? {} : { voicesDir: flags.voices }),
      signal: context.signal,
      onProgress: (event) => {
        const { result } = event;
        if (bar) {
          bar.update({ finished: event.done, total: event.total, started, eta: event.eta, id: result.id ?? "" });
          if (result.status === "error" && result.code !== undefined && event.elapsed > 0) {
            output.error(`line ${result.line} (${result.id}): ${result.message} [${result.code}]`);
          }
          return;
        }
        const at = `[${event.done}/${event.total}]`;
        if (result.status === "ok") {
          output.info(
            result.resumed
              ? `${at} ${result.id}: already done`
              : `${at} ${result.id}: ${result.seconds.toFixed(2)} s of audio in ${event.elapsed.toFixed(2)} s, ETA ${formatDuration(event.eta)}`,
          );
        } else if (event.elapsed > 0) {
          output.error(`${at} line ${result.line} (${result.id}): ${result.message} [${result.code}]`);
        }
      },
    });
    bar?.stop();
    await finish(context, store, results);
  } finally {
    bar?.stop();
    await engine?.dispose();
  }
}

/** Write results.jsonl, say how it went, and exit 1 when a line failed. */
async function finish(context: CommandContext, store: OutputStore, results: BatchResult[]): Promise<void> {
  const path = await store.writeResults(results);
  const ok = results.filter((r) => r.status === "ok");
  const resumed = ok.filter((r) => r.status === "ok" && r.resumed).length;
  const failed = results.length - ok.length;
  context.output.info(
    `${ok.length} of ${results.length} line(s) done (${resumed} already before), ${failed} failed; results in ${path}`,
  );
  if (failed > 0) context.setExitCode(EXIT_FAILURE);
}

/** Lines finished of all: a bar with ETA on a terminal's stderr. */
function countBar(context: CommandContext, label: string) {
  type Event = { finished: number; total: number; started: number; eta?: number | undefined; id?: string };
  return progressBar<Event>(context, {
    format: `${label} [{bar}] {value}/{total} | ETA {etaText} | {id}`,
    key: () => label,
    total: (e) => e.total,
    value: (e) => e.finished,
    payload: (e) => {
      // Without the runner's estimate: from the pace so far.
      const elapsed = (performance.now() - e.started) / 1e3;
      const eta = e.eta ?? (e.finished > 0 ? (elapsed / e.finished) * (e.total - e.finished) : undefined);
      return { etaText: formatDuration(eta), id: e.id ?? "" };
    },
    line: (e) => context.output.info(`${label}: ${e.total} line(s)…`),
  });
}

async function printStatus(context: CommandContext, flags: BatchFlags): Promise<void> {
  const location = await queueFrom(flags);
  const batch = await import("@vall-e/batch");
  await batch.checkRedis(location.url);
  const status = await batch.queueStatus(location);
  if (flags.json) {
    context.output.data(
      `${JSON.stringify({ queue: location.name, ...status.counts, running: status.active }, null, 2)}\n`,
    );
    return;
  }
  for (const [name, count] of Object.entries(status.counts)) context.output.data(`${name.padEnd(10)} ${count}\n`);
  for (const job of status.active) {
    const since = job.startedAt === undefined ? "" : ` for ${formatDuration((Date.now() - job.startedAt) / 1e3)}`;
    context.output.debug(`running ${job.id} (line ${job.line}) on ${job.worker ?? "?"}${since}`);
  }
}
