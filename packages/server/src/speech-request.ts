/**
 * The body of `POST /v1/audio/speech`: OpenAI's fields (model, input, voice, response_format, stream_format, speed)
 * plus VALL-E's own options, named as in the one defaults table in snake_case (max_duration, top_p, …). The JSON
 * schema is made from that table, so a new option appears here by itself; its domain is checked by the same rules as
 * the library and the CLI (resolveRequest), and a message names the field as the client wrote it.
 */
import { type TSchema, Type } from "@sinclair/typebox";
import {
  InvalidArgumentError,
  REQUEST_SETTINGS,
  resolveRequest,
  SAMPLING_SETTINGS,
  type Setting,
  type SpeechRequest,
} from "@vall-e/pipeline";
import { RESPONSE_FORMATS, type ResponseFormat } from "./audio/formats.js";
import { invalidRequest } from "./errors.js";

/** The request settings a client may set (threads are the server's). */
const REQUEST_FIELDS = [
  "task",
  "modality",
  "language",
  "seed",
  "maxDuration",
  "maxLevels",
  "promptSeconds",
  "sentencePause",
  "contextHistory",
  "sentenceBatch",
  "remask",
  "scoring",
] as const satisfies readonly (keyof typeof REQUEST_SETTINGS)[];
const SAMPLING_FIELDS = Object.keys(SAMPLING_SETTINGS) as (keyof typeof SAMPLING_SETTINGS)[];

export const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function schemaOf(setting: Setting<unknown>): TSchema {
  const options = { description: setting.doc };
  if (setting.choices)
    return Type.Union(
      setting.choices.map((c) => Type.Literal(c)),
      options,
    );
  if (typeof setting.value === "boolean") return Type.Boolean(options);
  return setting.domain.includes("integer") ? Type.Integer(options) : Type.Number(options);
}

const extras: Record<string, TSchema> = {};
for (const field of REQUEST_FIELDS) extras[snake(field)] = Type.Optional(schemaOf(REQUEST_SETTINGS[field]));
for (const field of SAMPLING_FIELDS) extras[snake(field)] = Type.Optional(schemaOf(SAMPLING_SETTINGS[field]));

export const STREAM_FORMATS = ["audio", "sse"] as const;
export type StreamFormat = (typeof STREAM_FORMATS)[number];

export function speechBodySchema(maxInput: number) {
  return Type.Object(
    {
      model: Type.String({ minLength: 1, maxLength: 256 }),
      input: Type.String({ maxLength: maxInput }),
      voice: Type.Optional(
        Type.Union([
          Type.String({ minLength: 1, maxLength: 128 }),
          Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }),
        ]),
      ),
      response_format: Type.Optional(Type.Union(RESPONSE_FORMATS.map((f) => Type.Literal(f)))),
      stream_format: Type.Optional(Type.Union(STREAM_FORMATS.map((f) => Type.Literal(f)))),
      speed: Type.Optional(Type.Number()),
      ...extras,
    },
    { additionalProperties: false },
  );
}

export interface SpeechBody {
  model: string;
  input: string;
  voice?: string | { id: string };
  response_format?: ResponseFormat;
  stream_format?: StreamFormat;
  speed?: number;
  [option: string]: unknown;
}

/** The engine request a body asks for (without the voice and the signal), every value checked. */
export function toSpeechRequest(body: SpeechBody): SpeechRequest {
  if (body.speed !== undefined && body.speed !== 1) {
    throw invalidRequest(
      `Expected 1 for speed (VALL-E speaks at the voice's own pace), got ${body.speed}`,
      "invalid_value",
    );
  }
  const request: Record<string, unknown> = { text: body.input };
  for (const field of REQUEST_FIELDS) {
    const value = body[snake(field)];
    if (value !== undefined) request[field] = value;
  }
  const sampling: Record<string, unknown> = {};
  for (const field of SAMPLING_FIELDS) {
    const value = body[snake(field)];
    if (value !== undefined) sampling[field] = value;
  }
  if (Object.keys(sampling).length > 0) request.sampling = sampling;
  try {
    resolveRequest(request as SpeechRequest);
  } catch (error) {
    if (error instanceof InvalidArgumentError) {
      // "… for maxDuration, got 0" → "… for max_duration, got 0"; "… for sampling.topP" → "… for top_p".
      const message = error.message.replace(
        / for (sampling\.)?([a-zA-Z]+)(,| got|$)/,
        (_, _s, name, end) => ` for ${snake(name)}${end}`,
      );
      throw invalidRequest(message, "invalid_value", error);
    }
    throw error;
  }
  return request as SpeechRequest;
}
