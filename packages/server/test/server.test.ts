/**
 * The server on 127.0.0.1 with the tiny bundle, through real HTTP clients (fetch, and OpenAI's own npm client):
 * every endpoint and error status, streaming, cancellation on disconnect, the queue, the API key, voices and hostile
 * voice names, uploads, and byte-identical answers for the same request and seed.
 */
import { tempDir } from "@tooling/config/temp-dir";
import { type Engine, encodeWav, liveNativeObjects, parseWav, tinyBundle } from "@vall-e/pipeline";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src/app.js";
import { type SpeechServer, startServer } from "../src/serve.js";
import { VoiceStore } from "../src/voices.js";

const tiny = await tinyBundle(tempDir("server-tiny-"));
const models = { lm: tiny.lm, codec: tiny.codec, tokenizer: tiny.tokenizer, vocos: tiny.vocos };
const quick = { max_steps: 4, language: "en", seed: 7 };

function tone(seconds: number, rate = 16000): Uint8Array {
  return encodeWav(
    Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 200 * i) / rate)),
    rate,
  );
}

let server: SpeechServer;
const voicesDir = tempDir("server-voices-");
let engine: Engine;
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
const speech = (body: Record<string, unknown>) => post("/v1/audio/speech", { model: "vall-e", ...body });
const bytesOf = async (response: Response) => new Uint8Array(await response.arrayBuffer());
const errorOf = async (response: Response) => ((await response.json()) as { error: Record<string, string> }).error;
async function until(condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
function upload(name: string | undefined, file: Uint8Array | undefined, url = server.url) {
  const form = new FormData();
  if (file) form.append("file", new Blob([file], { type: "audio/wav" }), "voice.wav");
  if (name !== undefined) form.append("name", name);
  return fetch(`${url}/v1/audio/voices`, { method: "POST", body: form });
}

beforeAll(async () => {
  server = await startServer({
    models,
    port: 0,
    voicesDir,
    threads: 2,
    limits: { slots: 1, queue: 1, maxUploadBytes: 256 << 10, maxVoiceSeconds: 5, maxInput: 200 },
  });
  engine = await server.ready;
});
afterAll(async () => {
  await server?.close();
});

describe("the speech API", () => {
  it("/health, /v1/models, /metrics and a JSON 404 for anything else", async () => {
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ status: "ok" });
    const list = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(list.data.map((m) => m.id)).toEqual(["vall-e"]);
    const missing = await fetch(`${server.url}/v2/nothing`);
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toMatchObject({ type: "not_found_error", code: "unknown_route" });
  });

  it("/health answers 503 while the models load", async () => {
    const { app } = await buildApp({ engine: () => undefined, voices: await VoiceStore.open(tempDir("voices-")) });
    const health = await app.inject({ method: "GET", url: "/health" });
    expect([health.statusCode, health.json()]).toEqual([503, { status: "loading" }]);
    const early = await app.inject({
      method: "POST",
      url: "/v1/audio/speech",
      payload: { model: "vall-e", input: "Hi." },
    });
    expect(early.statusCode).toBe(503);
    expect(early.headers["retry-after"]).toBe("2");
    await app.close();
  });

  it("speaks a WAV; the same request and seed give the same bytes; every response format", async () => {
    const first = await speech({ input: "Hello there.", ...quick });
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("audio/wav");
    const wav = await bytesOf(first);
    const audio = parseWav(wav);
    expect(audio.sampleRate).toBe(24000);
    expect(audio.channels[0]?.length).toBeGreaterThan(24000 * 0.5);
    expect(await bytesOf(await speech({ input: "Hello there.", ...quick }))).toEqual(wav);
    // Sentences generated together (sentence_batch) give the same bytes as one by one.
    const two = "Hello there. Good bye.";
    const alone = await bytesOf(await speech({ input: two, ...quick, sentence_batch: 1 }));
    expect(await bytesOf(await speech({ input: two, ...quick, sentence_batch: 2 }))).toEqual(alone);

    const magic: Record<string, [string, (b: Uint8Array) => boolean]> = {
      pcm: ["audio/pcm", (b) => b.length === (audio.channels[0]?.length ?? 0) * 2],
      flac: ["audio/flac", (b) => Buffer.from(b.subarray(0, 4)).toString("latin1") === "fLaC"],
      mp3: [
        "audio/mpeg",
        (b) => (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0) || Buffer.from(b.subarray(0, 3)).toString() === "ID3",
      ],
      opus: ["audio/ogg", (b) => Buffer.from(b.subarray(0, 4)).toString("latin1") === "OggS"],
    };
    for (const [format, [type, check]] of Object.entries(magic)) {
      const response = await speech({ input: "Hello there.", ...quick, response_format: format });
      expect([format, response.status]).toEqual([format, 200]);
      expect(response.headers.get("content-type")).toContain(type);
      expect([format, check(await bytesOf(response))]).toEqual([format, true]);
    }
  }, 120_000);

  it("streams: the first bytes arrive while later sentences are still generating; SSE carries the same audio", async () => {
    const body = { input: "One sentence. Another sentence. A third one.", ...quick, max_steps: 20 };
    const response = await speech({ ...body, stream_format: "audio" });
    expect(response.status).toBe(200);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(first.done).toBe(false);
    expect(engine.activeRequests).toBe(1); // the request is still running when its first bytes are here
    const parts = [first.value as Uint8Array];
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    const streamed = Buffer.concat(parts);
    expect(streamed.subarray(0, 4).toString("latin1")).toBe("RIFF");

    const sse = await speech({ ...body, stream_format: "sse" });
    expect(sse.headers.get("content-type")).toContain("text/event-stream");
    const events = (await sse.text())
      .split("\n\n")
      .filter(Boolean)
      .map((e) => JSON.parse(e.replace(/^data: /, "")) as { type: string; audio?: string; usage?: object });
    expect(events.at(-1)?.type).toBe("speech.audio.done");
    expect(events.at(-1)?.usage).toMatchObject({ input_tokens: body.input.length });
    const audio = Buffer.concat(
      events.filter((e) => e.type === "speech.audio.delta").map((e) => Buffer.from(e.audio as string, "base64")),
    );
    expect(audio.equals(streamed)).toBe(true);
  }, 120_000);

  it("a client that disconnects stops its request and frees its context", async () => {
    const response = await speech({
      input: "First. Second. Third. Fourth. Fifth. Sixth.",
      ...quick,
      max_steps: 12,
      stream_format: "audio",
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    expect(engine.activeRequests).toBe(1);
    await reader.cancel();
    await until(() => engine.activeRequests === 0 && liveNativeObjects().lmContexts === 0, "the request to end");
  }, 60_000);

  it("a full queue answers 503 server_busy with Retry-After", async () => {
    const long = { input: "A long one. And more.", ...quick, max_steps: 12 };
    const running = speech(long);
    await until(() => engine.activeRequests === 1, "the first request to start");
    const waiting = speech(long);
    await until(() => server.limiter.queued === 1, "the second request to queue");
    const refused = await speech(long);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(await errorOf(refused)).toMatchObject({ code: "server_busy", type: "server_error" });
    expect((await running).status).toBe(200);
    expect((await waiting).status).toBe(200);
  }, 120_000);

  it("bad requests: unknown fields, bad values named as sent, long input, speed, unknown model or voice", async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ input: "Hi.", temperature: 1 }, 400, "must NOT have additional properties"],
      [{ input: "Hi.", max_duration: 0 }, 400, "Expected seconds in (0, 600] for max_duration, got 0"],
      [{ input: "Hi.", top_p: 2 }, 400, "Expected a number in (0, 1] for top_p, got 2"],
      [
        { input: "Hi.", sentence_batch: 33 },
        400,
        "Expected a number of sentences from 0 to 32 for sentence_batch, got 33",
      ],
      [{ input: "Hi.", modality: "fast" }, 400, "modality"],
      [{ input: "x".repeat(201) }, 400, "must NOT have more than 200 characters"],
      [{ input: "Hi.", speed: 1.5 }, 400, "Expected 1 for speed"],
      [{ input: "Hi.", model: "whisper-1" }, 404, 'No model "whisper-1"'],
      [{ input: "Hi.", voice: "nobody" }, 404, 'No voice "nobody"'],
      [{ input: "Hi.", voice: "../../etc/passwd" }, 404, "No voice"],
      [{ input: "Hi.", voice: "/etc/passwd" }, 404, "No voice"],
      [{ input: "Hi.", voice: "a\u0000b" }, 404, "No voice"],
      [{ input: "Hi.", voice: { id: "../x" } }, 404, "No voice"],
    ];
    for (const [body, status, message] of cases) {
      const response = await speech(body);
      const error = await errorOf(response);
      expect([JSON.stringify(body).slice(0, 60), response.status]).toEqual([JSON.stringify(body).slice(0, 60), status]);
      expect(error.message).toContain(message);
    }
    const notJson = await fetch(`${server.url}/v1/audio/speech`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(notJson.status).toBe(400);
  });

  it("metrics count requests, audio seconds and stage durations", async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('vall_e_http_requests_total{route="/v1/audio/speech",status="200"}');
    expect(text).toMatch(/vall_e_audio_seconds_total [1-9]/);
    expect(text).toContain('vall_e_stage_seconds_count{stage="nar-len"}');
    expect(text).toContain("vall_e_queue_length 0");
  });
});

describe("voices", () => {
  it("upload, list, get, speak with (by name and by id: the same audio), delete; kept across restarts", async () => {
    const created = await upload("anna", tone(1.5));
    expect(created.status).toBe(201);
    const voice = (await created.json()) as { id: string; name: string; seconds: number; object: string };
    expect(voice).toMatchObject({ object: "audio.voice", name: "anna", seconds: 1.5 });
    expect(voice.id).toMatch(/^voice_[0-9a-f]{24}$/);
    const list = (await (await fetch(`${server.url}/v1/audio/voices`)).json()) as { data: { id: string }[] };
    expect(list.data.map((v) => v.id)).toContain(voice.id);
    expect(await (await fetch(`${server.url}/v1/audio/voices/${voice.id}`)).json()).toMatchObject({ name: "anna" });

    const byName = await bytesOf(await speech({ input: "Hi.", ...quick, voice: "anna" }));
    const byId = await bytesOf(await speech({ input: "Hi.", ...quick, voice: { id: voice.id } }));
    const none = await bytesOf(await speech({ input: "Hi.", ...quick }));
    expect(byId).toEqual(byName);
    expect(byName).not.toEqual(none);

    const reopened = await VoiceStore.open(voicesDir); // what a restarted server finds
    expect(reopened.find(voice.id)?.meta).toEqual(voice);
    expect(reopened.find("anna")?.voice.references).toEqual(engineVoice(voice.id));
    const deleted = await fetch(`${server.url}/v1/audio/voices/${voice.id}`, { method: "DELETE" });
    expect(await deleted.json()).toEqual({ id: voice.id, object: "audio.voice.deleted", deleted: true });
    expect((await fetch(`${server.url}/v1/audio/voices/${voice.id}`)).status).toBe(404);
  }, 60_000);

  it("refuses bad uploads and hostile ids with a message, reading nothing", async () => {
    const bad: [Promise<Response>, number, string][] = [
      [upload("x", new TextEncoder().encode("not a wav at all")), 400, "file: not an audio file this build reads"],
      [upload("x", tone(6)), 400, "Expected at most 5 s of audio for file"],
      [upload("x", tone(0.05)), 400, "Expected at least 0.1 s of audio for file"],
      [upload("x", new Uint8Array(300 << 10)), 413, "too large"],
      [upload(undefined, tone(1)), 400, 'Expected a name in the field "name"'],
      [upload("x", undefined), 400, 'Expected an audio file (WAV, FLAC, MP3, Ogg) in the field "file"'],
      [upload("../etc", tone(1)), 400, "Expected a name of 1 to 64 letters"],
      [fetch(`${server.url}/v1/audio/voices/..%2F..%2Fetc%2Fpasswd`), 404, "No voice with id"],
      [fetch(`${server.url}/v1/audio/voices/%2Fetc%2Fpasswd`, { method: "DELETE" }), 404, "No voice with id"],
      [fetch(`${server.url}/v1/audio/voices/a%00b`), 404, "No voice with id"],
    ];
    for (const [pending, status, message] of bad) {
      const response = await pending;
      const error = await errorOf(response);
      expect([error.message, response.status]).toEqual([error.message, status]);
      expect(error.message).toContain(message);
    }
  });
});

describe("clients and keys", () => {
  it("OpenAI's npm client works against it unchanged", async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused" });
    const response = await client.audio.speech.create({
      model: "tts-1",
      voice: undefined as unknown as "alloy",
      input: "Hello from the client.",
      response_format: "wav",
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(parseWav(bytes).sampleRate).toBe(24000);
  }, 60_000);

  it("an API key guards the API (not /health or the page)", async () => {
    const guarded = await startServer({
      models,
      port: 0,
      voicesDir: tempDir("server-voices-key-"),
      apiKey: "sk-test-123",
    });
    try {
      await guarded.ready;
      expect((await fetch(`${guarded.url}/health`)).status).toBe(200);
      const refused = await fetch(`${guarded.url}/v1/models`);
      expect(refused.status).toBe(401);
      expect(await errorOf(refused)).toMatchObject({ type: "authentication_error", code: "invalid_api_key" });
      expect(
        (await fetch(`${guarded.url}/v1/models`, { headers: { authorization: "Bearer sk-wrong-12" } })).status,
      ).toBe(401);
      expect(
        (await fetch(`${guarded.url}/v1/models`, { headers: { authorization: "Bearer sk-test-123" } })).status,
      ).toBe(200);
      const client = new OpenAI({ baseURL: `${guarded.url}/v1`, apiKey: "sk-test-123" });
      expect((await client.models.list()).data.map((m) => m.id)).toEqual(["vall-e"]);
    } finally {
      await guarded.close();
    }
  }, 60_000);
});

function engineVoice(id: string) {
  return server.voices.find(id)?.voice.references;
}
