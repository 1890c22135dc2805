/**
 * `vall-e serve [--model PATH|tiny] [--host 127.0.0.1] [--port 8080] [--voices DIR] [--slots N] [--queue N]
 * [--api-key KEY] [--cors ORIGIN]`: the speech server — an OpenAI-compatible `POST /v1/audio/speech`, the voice
 * library, /health, /v1/models, /metrics and the web page at /, on one engine whose models load once. Stops
 * gracefully on Ctrl-C or SIGTERM: no new requests, the running ones stopped, the engine freed.
 */
import { Command } from "commander";
import type { CommandContext } from "../context.js";
import { deviceLoadOption, deviceOption } from "../io/device-option.js";
import { addModelOptions, engineRoles, type ModelFlags, resolveModelFiles } from "../io/model-files.js";
import { parseInteger, parseThreads } from "../io/options.js";

interface ServeFlags extends ModelFlags {
  device?: string;
  host: string;
  port: number;
  voices?: string;
  slots: number;
  queue: number;
  apiKey?: string;
  cors?: string;
  maxInput: number;
  requestTimeout: number;
  threads?: number;
}

export function serveCommand(context: CommandContext): Command {
  const command = new Command("serve")
    .description("the speech server: OpenAI's /v1/audio/speech with cloned voices, streaming, metrics and a web page")
    .option("--host <host>", "address to listen on: 0.0.0.0 for every interface", "127.0.0.1")
    .option("--port <port>", "port (0: any free one)", parseInteger("--port", 0, 65535), 8080)
    .option("--voices <dir>", "the voice library (default: VALL_E_VOICES_DIR or ~/.local/share/vall-e/voices)")
    .option("--slots <n>", "requests generating at once", parseInteger("--slots", 1, 64), 1)
    .option("--queue <n>", "requests waiting for a slot; one more gets 503", parseInteger("--queue", 0, 10_000), 8)
    .option("--api-key <key>", "require Authorization: Bearer <key>; none: open to all (default: VALL_E_API_KEY)")
    .option("--cors <origin>", "allow browser calls from this origin (default: none)")
    .option("--max-input <chars>", "longest input text", parseInteger("--max-input", 1, 1_000_000), 4096)
    .option("--request-timeout <s>", "seconds a request may take", parseInteger("--request-timeout", 1, 86_400), 300)
    .option("-t, --threads <n>", "threads (default: the physical cores)", parseThreads)
    .addOption(deviceOption());
  addModelOptions(command, ["lm", "codec", "tokenizer", "vocos"]);
  return command.action(async (flags: ServeFlags) => {
    const server = await import("@vall-e/server");
    const resolved = await resolveModelFiles(context, flags, engineRoles(flags));
    const apiKey = flags.apiKey ?? process.env.VALL_E_API_KEY;
    const running = await server.startServer({
      models: resolved.files,
      load: { decoder: flags.vocoder ?? "vocos", ...deviceLoadOption(flags.device) },
      host: flags.host,
      port: flags.port,
      voicesDir: flags.voices ?? server.defaultVoicesDir(),
      limits: {
        slots: flags.slots,
        queue: flags.queue,
        maxInput: flags.maxInput,
        requestTimeout: flags.requestTimeout,
      },
      ...(apiKey ? { apiKey } : {}),
      ...(flags.cors ? { cors: flags.cors } : {}),
      ...(flags.threads ? { threads: flags.threads } : {}),
    });
    context.output.info(`listening on ${running.url} (loading the models…)`);
    const stop = new Promise<string>((resolve) => {
      context.signal.addEventListener("abort", () => resolve("signal"), { once: true }); // Ctrl-C, SIGTERM, SIGHUP
    });
    const loaded = await Promise.race([running.ready.then(() => "ready" as const), stop]).catch(
      async (error: unknown) => {
        await running.close();
        throw error;
      },
    );
    if (loaded === "ready") {
      context.output.info(
        `ready: POST ${running.url}/v1/audio/speech · the web page at ${running.url}/${apiKey ? " (API key required)" : ""}`,
      );
      context.output.data(`${running.url}\n`);
      await stop;
    }
    context.output.info("stopping: no new requests; the running ones are stopped and the models freed");
    await running.close();
  });
}
