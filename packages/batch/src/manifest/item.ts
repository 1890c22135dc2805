/**
 * One line of a manifest: `{ "id", "text", "voice"?, "seed"?, …settings }`. An id names the item's folder under the
 * output folder, so it is checked before it is used: 1 to 128 letters, digits, dots, dashes or underscores, not `.`,
 * `..` or a name the batch uses itself — it never becomes a path outside DIR. A seed not given is derived from the id,
 * so every rerun and every worker agrees on it.
 */
import { createHash } from "node:crypto";
import { invalid, VallEError } from "@vall-e/pipeline";
import { RESERVED_NAMES } from "../output/layout.js";
import { checkSettings, type LineSettings, settingsOf } from "./fields.js";

export const ITEM_ID = /^[A-Za-z0-9._-]{1,128}$/;
/** The longest line a manifest may have. */
export const MAX_LINE_BYTES = 1 << 20;

/** An id the batch can use as a folder name; throws ERR_MANIFEST_ID otherwise. Integers are taken as their digits. */
export function checkItemId(value: unknown): string {
  const id = typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? String(value) : value;
  if (typeof id !== "string" || !ITEM_ID.test(id) || RESERVED_NAMES.includes(id)) {
    const reserved = RESERVED_NAMES.map((n) => JSON.stringify(n)).join(", ");
    const what = `an id of 1 to 128 letters, digits, dots, dashes or underscores (not ${reserved})`;
    throw new VallEError("ERR_MANIFEST_ID", invalid(what, "id", value).message);
  }
  return id;
}

/**
 * The seed of an item that gives none: the first 4 bytes, big-endian, of SHA-256("vall-e.batch.seed/1\n" + id) — an
 * integer from 0 to 2³² − 1, the same on every machine and every run.
 */
export function seedFor(id: string): number {
  return createHash("sha256").update(`vall-e.batch.seed/1\n${id}`).digest().readUInt32BE(0);
}

/** A manifest line, parsed and checked (its voice not yet resolved). */
export interface ManifestLine {
  /** 1-based line number in the manifest. */
  line: number;
  id: string;
  text: string;
  /** The voice as the line gives it: an audio file path, a voice id or name, or espeak:<voice>. */
  voice?: string;
  seed: number;
  /** Whether the seed was derived from the id (the line gave none). */
  seedDerived: boolean;
  settings: LineSettings["settings"];
}

/** A line that cannot be done, with its number and (when it could be read) its id. */
export interface LineFailure {
  line: number;
  id?: string;
  code: string;
  message: string;
}

export type ParsedLine = { ok: true; value: ManifestLine } | ({ ok: false } & LineFailure);

/** Parse and check one line of a manifest (`text` without its newline). */
export function parseManifestLine(text: string, line: number): ParsedLine {
  const fail = (error: { code?: unknown; message: string }, id?: string): ParsedLine => ({
    ok: false,
    line,
    ...(id === undefined ? {} : { id }),
    code: typeof error.code === "string" ? error.code : "ERR_INTERNAL",
    message: error.message,
  });
  if (Buffer.byteLength(text) > MAX_LINE_BYTES) {
    return fail({ code: "ERR_MANIFEST_LINE", message: `The line is longer than ${MAX_LINE_BYTES} bytes` });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail({ code: "ERR_MANIFEST_LINE", message: `Not JSON: ${(error as Error).message}` });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return fail({
      code: "ERR_MANIFEST_LINE",
      message: `Expected a JSON object ({ "id", "text", … }), got ${Array.isArray(json) ? "an array" : JSON.stringify(json)}`,
    });
  }
  const fields = json as Record<string, unknown>;
  if (fields.id === undefined) return fail({ code: "ERR_MANIFEST_FIELD", message: 'The line has no "id"' });
  let id: string;
  try {
    id = checkItemId(fields.id);
  } catch (error) {
    return fail(error as VallEError);
  }
  try {
    if (fields.text === undefined) {
      return fail({ code: "ERR_MANIFEST_FIELD", message: 'The line has no "text"' }, id);
    }
    if (typeof fields.text !== "string") throw invalid("a string", "text", fields.text);
    const voice = fields.voice;
    if (voice !== undefined && (typeof voice !== "string" || voice === "")) {
      throw invalid("an audio file path, or a voice id or name of the voice library", "voice", voice);
    }
    const settings = settingsOf(fields);
    const given = fields.seed;
    checkSettings(fields.text, given as number | undefined, settings, voice !== undefined);
    if ((settings.settings.task ?? "tts") === "tts" && fields.text.trim() === "") {
      throw invalid("text with something to say", "text", fields.text);
    }
    return {
      ok: true,
      value: {
        line,
        id,
        text: fields.text,
        ...(voice === undefined ? {} : { voice }),
        seed: given === undefined ? seedFor(id) : (given as number),
        seedDerived: given === undefined,
        settings: settings.settings,
      },
    };
  } catch (error) {
    return fail(error as VallEError, id);
  }
}
