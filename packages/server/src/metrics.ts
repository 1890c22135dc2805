/** Prometheus metrics of the server (prom-client), on a registry of its own. */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "vall_e_http_requests_total",
    help: "HTTP requests by route and status",
    labelNames: ["route", "status"] as const,
    registers: [this.registry],
  });
  readonly queued = new Gauge({
    name: "vall_e_queue_length",
    help: "Speech requests waiting for a generation slot",
    registers: [this.registry],
  });
  readonly active = new Gauge({
    name: "vall_e_active_generations",
    help: "Speech requests generating now",
    registers: [this.registry],
  });
  readonly audioSeconds = new Counter({
    name: "vall_e_audio_seconds_total",
    help: "Seconds of audio generated",
    registers: [this.registry],
  });
  readonly stageSeconds = new Histogram({
    name: "vall_e_stage_seconds",
    help: "Seconds per pipeline stage of a speech request",
    labelNames: ["stage"] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: "vall_e_speech_request_seconds",
    help: "Seconds from the start of a speech request's generation to its last byte",
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
}
