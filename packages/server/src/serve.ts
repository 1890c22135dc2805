/**
 * Starting and stopping the server: listen at once (so /health can say "loading"), load the Engine in the
 * background, and on close stop accepting, stop the requests in flight and free the engine.
 */
import { Engine, type EngineLoadOptions, type ModelFiles } from "@vall-e/pipeline";
import type { FastifyInstance } from "fastify";
import { type AppLimits, buildApp } from "./app.js";
import type { Limiter } from "./limiter.js";
import type { ServerMetrics } from "./metrics.js";
import { VoiceStore } from "./voices.js";

export interface ServeOptions {
  /** The model files, or "tiny" (see Engine.load). */
  models?: Partial<ModelFiles> | "tiny";
  /** Loopback unless said otherwise. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Where voices are kept (created when missing). */
  voicesDir: string;
  limits?: Partial<AppLimits>;
  apiKey?: string;
  cors?: string;
  threads?: number;
  logger?: boolean;
  /** Passed to Engine.load (downloads, progress). */
  load?: Omit<EngineLoadOptions, "models" | "threads" | "signal">;
}

export interface SpeechServer {
  readonly app: FastifyInstance;
  readonly metrics: ServerMetrics;
  /** Generation slots and the queue (active, queued). */
  readonly limiter: Limiter;
  readonly voices: VoiceStore;
  /** http://host:port */
  readonly url: string;
  /** Resolves when the models are loaded; rejects with the load error. */
  readonly ready: Promise<Engine>;
  close(): Promise<void>;
}

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 8080;

export async function startServer(options: ServeOptions): Promise<SpeechServer> {
  const voices = await VoiceStore.open(options.voicesDir);
  let engine: Engine | undefined;
  let loadError: Error | undefined;
  const loading = new AbortController();
  const { app, metrics, limiter } = await buildApp({
    engine: () => engine,
    loadError: () => loadError,
    voices,
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    ...(options.cors ? { cors: options.cors } : {}),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
  const host = options.host ?? DEFAULT_HOST;
  await app.listen({ host, port: options.port ?? DEFAULT_PORT });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : (options.port ?? DEFAULT_PORT);
  const ready = Engine.load({
    ...options.load,
    ...(options.models ? { models: options.models } : {}),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    signal: loading.signal,
  }).then(
    (loaded) => {
      engine = loaded;
      return loaded;
    },
    (error: Error) => {
      loadError = error;
      throw error;
    },
  );
  ready.catch(() => undefined); // reported through /health and to whoever awaits `ready`
  let closing: Promise<void> | undefined;
  return {
    app,
    metrics,
    limiter,
    voices,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    ready,
    close() {
      closing ??= (async () => {
        loading.abort();
        const closed = app.close(); // stops accepting; waits for the responses in flight
        await ready.catch(() => undefined);
        await engine?.dispose(); // stops the generations in flight (they end their responses)
        app.server.closeAllConnections?.();
        await closed;
      })();
      return closing;
    },
  };
}
