/**
 * The HTTP application (fastify): OpenAI's speech endpoint over one Engine, the voice library, health, models,
 * Prometheus metrics and the web page. Safe by default: every size and time is limited, a full queue answers 503 with
 * Retry-After, a client that goes away cancels its request, an API key guards everything but /health and the page.
 */
import { timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import cors from "@fastify/cors";
import multipart from "@fastify/multipart";
import { decodeAudio, type Engine, type SpeechChunk, type SpeechRequest, type Voice } from "@vall-e/pipeline";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { CONTENT_TYPES, createEncoder, type ResponseFormat } from "./audio/formats.js";
import { ApiError, invalidRequest, notFound, toApiError } from "./errors.js";
import { Limiter } from "./limiter.js";
import { ServerMetrics } from "./metrics.js";
import { type SpeechBody, speechBodySchema, toSpeechRequest } from "./speech-request.js";
import type { VoiceStore } from "./voices.js";

/** The model id the server answers to, and the OpenAI names it also accepts for it. */
export const MODEL_ID = "vall-e";
export const MODEL_ALIASES = ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"] as const;

export interface AppLimits {
  /** Generation slots (default 1: on a CPU one generation already uses every core). */
  slots: number;
  /** Requests that may wait for a slot; one more is refused with 503. */
  queue: number;
  /** Characters of `input`. */
  maxInput: number;
  /** Bytes of a JSON body. */
  bodyLimit: number;
  /** Bytes of an uploaded voice file. */
  maxUploadBytes: number;
  /** Seconds of an uploaded voice. */
  maxVoiceSeconds: number;
  /** Seconds a speech request may take, queueing included. */
  requestTimeout: number;
}

export const DEFAULT_LIMITS: AppLimits = {
  slots: 1,
  queue: 8,
  maxInput: 4096,
  bodyLimit: 1 << 20,
  maxUploadBytes: 16 << 20,
  maxVoiceSeconds: 30,
  requestTimeout: 300,
};

export interface AppOptions {
  /** The engine once loaded (undefined while loading: /health and the API answer 503). */
  engine: () => Engine | undefined;
  /** Why loading failed, when it did. */
  loadError?: () => Error | undefined;
  voices: VoiceStore;
  limits?: Partial<AppLimits>;
  apiKey?: string;
  /** An origin allowed to call the API from a browser (CORS is off without one). */
  cors?: string;
  logger?: boolean;
}

const WEB_DIR = new URL("../web/", import.meta.url);
const PAGES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
};

export async function buildApp(
  options: AppOptions,
): Promise<{ app: FastifyInstance; metrics: ServerMetrics; limiter: Limiter }> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const metrics = new ServerMetrics();
  const limiter = new Limiter(limits.slots, limits.queue);
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: limits.bodyLimit,
    // Unknown fields are an error, not dropped; nothing is coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  });

  if (options.cors) await app.register(cors, { origin: options.cors });
  await app.register(multipart, {
    limits: { fileSize: limits.maxUploadBytes, files: 1, fields: 4, fieldSize: 1024, parts: 6 },
  });

  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown; code?: string }, _req, reply) => {
    let api: ApiError;
    if (error.validation) api = invalidRequest(error.message.replace(/^body\/?/, ""), "invalid_request");
    else if (error instanceof ApiError) api = error;
    else if (error.code === "FST_REQ_FILE_TOO_LARGE" || error.statusCode === 413) {
      api = new ApiError(413, "invalid_request_error", "too_large", `The body is too large: ${error.message}`);
    } else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      api = new ApiError(error.statusCode, "invalid_request_error", "invalid_request", error.message);
    } else api = toApiError(error);
    sendError(reply, api);
  });
  app.setNotFoundHandler((request, reply) => {
    sendError(reply, notFound(`No route ${request.method} ${request.url.split("?")[0]}`, "unknown_route"));
  });
  app.addHook("onResponse", async (request, reply) => {
    metrics.requests.inc({ route: request.routeOptions.url ?? "unknown", status: String(reply.statusCode) });
  });

  // An API key, when set, guards everything but /health and the page (which asks for the key itself).
  if (options.apiKey) {
    const expected = Buffer.from(options.apiKey);
    app.addHook("onRequest", async (request) => {
      const path = request.url.split("?")[0] as string;
      if (path === "/health" || PAGES[path]) return;
      const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
      const ok =
        given !== undefined && given.length === options.apiKey?.length && timingSafeEqual(Buffer.from(given), expected);
      if (!ok) {
        throw new ApiError(
          401,
          "authentication_error",
          "invalid_api_key",
          "Missing or wrong API key (Authorization: Bearer <key>)",
        );
      }
    });
  }

  const engine = (): Engine => {
    const loaded = options.engine();
    if (loaded) return loaded;
    const failed = options.loadError?.();
    throw new ApiError(
      503,
      "server_error",
      failed ? "model_unavailable" : "loading",
      failed ? `The models could not be loaded: ${failed.message}` : "The models are still loading; try again shortly",
      { headers: { "retry-after": "2" } },
    );
  };

  app.get("/health", async (_request, reply) => {
    if (options.engine()) return { status: "ok" };
    const failed = options.loadError?.();
    reply.status(503);
    return failed ? { status: "error", error: failed.message } : { status: "loading" };
  });

  app.get("/v1/models", async () => ({
    object: "list",
    data: [{ id: MODEL_ID, object: "model", created: 0, owned_by: "vall-e-for-node" }],
  }));

  app.get("/metrics", async (_request, reply) => {
    metrics.queued.set(limiter.queued);
    metrics.active.set(limiter.active);
    reply.header("content-type", metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  for (const [path, page] of Object.entries(PAGES)) {
    const body = readPage(page.file);
    app.get(path, async (_request, reply) => {
      if (body === undefined) throw notFound("The web page is not part of this build", "no_page");
      reply.header("content-type", page.type).header("x-content-type-options", "nosniff");
      return body;
    });
  }

  // ---- voices -------------------------------------------------------------------------------------------------
  app.get("/v1/audio/voices", async () => ({ object: "list", data: options.voices.list() }));
  app.get<{ Params: { id: string } }>("/v1/audio/voices/:id", async (request) => {
    const found = options.voices.find(request.params.id);
    if (!found || found.meta.id !== request.params.id) {
      throw notFound(`No voice with id ${JSON.stringify(request.params.id)}`, "voice_not_found");
    }
    return found.meta;
  });
  app.delete<{ Params: { id: string } }>("/v1/audio/voices/:id", async (request) => {
    const meta = await options.voices.remove(request.params.id);
    return { id: meta.id, object: "audio.voice.deleted", deleted: true };
  });
  app.post("/v1/audio/voices", async (request, reply) => {
    const loaded = engine();
    if (!request.isMultipart()) throw invalidRequest("Expected a multipart/form-data body with a file and a name");
    let name: string | undefined;
    let bytes: Buffer | undefined;
    for await (const part of request.parts()) {
      if (part.type === "file") {
        if (part.fieldname !== "file") throw invalidRequest(`Unexpected file field ${JSON.stringify(part.fieldname)}`);
        bytes = await part.toBuffer(); // throws FST_REQ_FILE_TOO_LARGE past the limit
      } else if (part.fieldname === "name") name = String(part.value);
      else throw invalidRequest(`Unexpected field ${JSON.stringify(part.fieldname)} (expected file and name)`);
    }
    if (!bytes || bytes.length === 0) {
      throw invalidRequest('Expected an audio file (WAV, FLAC, MP3, Ogg) in the field "file"', "missing_file");
    }
    if (name === undefined) throw invalidRequest('Expected a name in the field "name"', "missing_name");
    const audio = await decodeAudio(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), "file");
    const samples = audio.channels[0] as Float32Array;
    const seconds = samples.length / audio.sampleRate;
    if (seconds > limits.maxVoiceSeconds) {
      throw invalidRequest(
        `Expected at most ${limits.maxVoiceSeconds} s of audio for file, got ${seconds.toFixed(1)} s`,
        "too_long",
      );
    }
    if (samples.length < audio.sampleRate / 10) {
      throw invalidRequest(`Expected at least 0.1 s of audio for file, got ${seconds.toFixed(3)} s`, "too_short");
    }
    const meta = await options.voices.add(loaded, name, { samples, sampleRate: audio.sampleRate }, { seconds });
    reply.status(201);
    return meta;
  });

  // ---- speech --------------------------------------------------------------------------------------------------
  app.post<{ Body: SpeechBody }>(
    "/v1/audio/speech",
    { schema: { body: speechBodySchema(limits.maxInput) } },
    async (request, reply) => {
      const loaded = engine();
      const body = request.body;
      if (body.model !== MODEL_ID && !(MODEL_ALIASES as readonly string[]).includes(body.model)) {
        throw notFound(`No model ${JSON.stringify(body.model)} (this server has ${MODEL_ID})`, "model_not_found");
      }
      const voiceName = typeof body.voice === "object" ? body.voice.id : body.voice;
      const voice = voiceName === undefined ? undefined : options.voices.get(voiceName).voice;
      const speech = toSpeechRequest(body);
      const format: ResponseFormat = body.response_format ?? "wav";

      // A client that goes away, or a request past its time, stops the generation and frees its context.
      const controller = new AbortController();
      reply.raw.on("close", () => {
        if (!reply.raw.writableFinished) controller.abort(new Error("the client disconnected"));
      });
      const timeout = setTimeout(
        () =>
          controller.abort(
            new ApiError(504, "timeout_error", "timeout", `The request took longer than ${limits.requestTimeout} s`),
          ),
        limits.requestTimeout * 1000,
      );
      timeout.unref();
      metrics.queued.set(limiter.queued + 1);
      let release: (() => void) | undefined;
      try {
        release = await limiter.acquire(controller.signal);
      } catch (error) {
        clearTimeout(timeout);
        throw toApiError(error); // a timeout's ApiError as it is; anything else mapped
      } finally {
        metrics.queued.set(limiter.queued);
      }
      metrics.active.set(limiter.active);
      const started = performance.now();
      const stages = stageTimer(metrics);
      const run: SpeechRequest = {
        ...speech,
        ...(voice ? { reference: voice as Voice } : {}),
        signal: controller.signal,
        onProgress: (e) => stages.enter(e.stage),
      };
      const finish = () => {
        stages.end();
        clearTimeout(timeout);
        release?.();
        release = undefined;
        metrics.active.set(limiter.active);
        metrics.requestSeconds.observe((performance.now() - started) / 1e3);
      };

      if (body.stream_format === undefined) {
        try {
          const result = await loaded.synthesize(run);
          metrics.audioSeconds.inc(result.audio.length / result.sampleRate);
          const encoder = createEncoder(format, result.sampleRate, { streaming: false });
          let bytes: Uint8Array;
          try {
            bytes = concatBytes([encoder.push(result.audio), encoder.end()]);
          } finally {
            encoder.dispose();
          }
          reply.header("content-type", CONTENT_TYPES[format]).header("x-vall-e-seed", String(result.seed ?? ""));
          return reply.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
        } catch (error) {
          throw controller.signal.reason instanceof ApiError ? controller.signal.reason : toApiError(error);
        } finally {
          finish();
        }
      }

      // Streamed: each sentence's bytes as soon as it is decoded (audio), or as server-sent events (sse).
      let chunks: AsyncIterableIterator<SpeechChunk>;
      try {
        chunks = loaded.stream(run);
      } catch (error) {
        finish();
        throw error;
      }
      const sse = body.stream_format === "sse";
      const encoder = createEncoder(format, 24_000, { streaming: true });
      const event = (payload: object) => Buffer.from(`data: ${JSON.stringify(payload)}\n\n`);
      const delta = (bytes: Uint8Array) =>
        sse
          ? event({ type: "speech.audio.delta", audio: Buffer.from(bytes).toString("base64") })
          : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
      async function* produce(): AsyncGenerator<Buffer> {
        let samples = 0;
        try {
          for await (const chunk of chunks) {
            samples += chunk.audio.length;
            const bytes = encoder.push(chunk.audio);
            if (bytes.length > 0) yield delta(bytes);
          }
          const rest = encoder.end();
          if (rest.length > 0) yield delta(rest);
          metrics.audioSeconds.inc(samples / 24_000);
          if (sse) {
            const outputTokens = Math.round((samples / 24_000) * 75);
            yield event({
              type: "speech.audio.done",
              usage: {
                input_tokens: body.input.length,
                output_tokens: outputTokens,
                total_tokens: body.input.length + outputTokens,
              },
            });
          }
        } finally {
          encoder.dispose(); // a client that went away frees the encoder's memory too
          await chunks.return?.();
          finish();
        }
      }
      reply
        .header("content-type", sse ? "text/event-stream; charset=utf-8" : CONTENT_TYPES[format])
        .header("cache-control", "no-store")
        .header("x-accel-buffering", "no");
      return reply.send(Readable.from(produce(), { objectMode: false }));
    },
  );

  return { app, metrics, limiter };
}

function sendError(reply: FastifyReply, error: ApiError): void {
  if (reply.sent || reply.raw.headersSent) {
    reply.raw.destroy(error);
    return;
  }
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  reply.status(error.status).type("application/json").send(error.toJSON());
}

function readPage(file: string): string | undefined {
  try {
    return readFileSync(fileURLToPath(new URL(file, WEB_DIR)), "utf8");
  } catch {
    return undefined;
  }
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Per-stage seconds from a request's progress events, into the stage histogram. */
function stageTimer(metrics: ServerMetrics) {
  let current: string | undefined;
  let since = 0;
  const close = () => {
    if (current !== undefined) metrics.stageSeconds.observe({ stage: current }, (performance.now() - since) / 1e3);
    current = undefined;
  };
  return {
    enter(stage: string) {
      if (stage === current) return;
      close();
      current = stage;
      since = performance.now();
    },
    end: close,
  };
}
