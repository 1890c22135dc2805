/**
 * @vall-e/server — `vall-e serve`: an OpenAI-compatible speech API (`POST /v1/audio/speech`) over one VALL-E Engine,
 * with a voice library, streaming (audio bytes or server-sent events), WAV/PCM/FLAC/MP3/Opus, generation slots and a
 * bounded queue, Prometheus metrics, an API key, and a web page to use it.
 */
export { type AppLimits, type AppOptions, buildApp, DEFAULT_LIMITS, MODEL_ALIASES, MODEL_ID } from "./app.js";
export { CONTENT_TYPES, RESPONSE_FORMATS, type ResponseFormat } from "./audio/formats.js";
export { ApiError, type ApiErrorType } from "./errors.js";
export { Limiter } from "./limiter.js";
export { ServerMetrics } from "./metrics.js";
export { DEFAULT_HOST, DEFAULT_PORT, type ServeOptions, type SpeechServer, startServer } from "./serve.js";
export { STREAM_FORMATS, type StreamFormat, speechBodySchema } from "./speech-request.js";
export { type StoredVoice, VOICE_FORMAT, VoiceStore } from "./voices.js";
export { defaultVoicesDir } from "./voices-dir.js";
