/**
 * The fields of a manifest line: `id`, `text`, `voice`, `seed`, and the library's request settings, named as in the
 * one table of defaults (REQUEST_SETTINGS, SAMPLING_SETTINGS) in camelCase or snake_case — a sampler setting such as
 * `maxSteps` / `max_steps` goes to the request's `sampling`. Values are checked by the library's own rules
 * (resolveRequest), and a message names the field as the line wrote it.
 */
import {
  type GenerationSettings,
  InvalidArgumentError,
  REQUEST_SETTINGS,
  resolveRequest,
  SAMPLING_SETTINGS,
  VallEError,
} from "@vall-e/pipeline";

/** The request settings a line may set: every one of the table but the seed (its own field) and threads (the batch's). */
export const REQUEST_FIELDS = Object.keys(REQUEST_SETTINGS).filter(
  (name) => name !== "seed" && name !== "threads",
) as readonly Exclude<keyof typeof REQUEST_SETTINGS, "seed" | "threads">[];
export const SAMPLING_FIELDS = Object.keys(SAMPLING_SETTINGS) as readonly (keyof typeof SAMPLING_SETTINGS)[];
/** The fields of a line that are not settings. */
export const ITEM_FIELDS = ["id", "text", "voice", "seed"] as const;

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The settings of one line as the library names them, and how the line wrote each (for messages). */
export interface LineSettings {
  settings: Omit<GenerationSettings, "seed">;
  /** Library name (`maxDuration`, `sampling.topP`) → the field as written (`max_duration`, `top_p`). */
  written: Map<string, string>;
}

/**
 * Sort the fields of a line (a parsed JSON object) into its settings; `id`, `text`, `voice` and `seed` are left to
 * the caller. An unknown field, a field given twice (camelCase and snake_case) or `threads` is an error.
 */
export function settingsOf(line: Record<string, unknown>): LineSettings {
  const settings: Record<string, unknown> = {};
  const sampling: Record<string, unknown> = {};
  const written = new Map<string, string>();
  for (const [field, value] of Object.entries(line)) {
    if ((ITEM_FIELDS as readonly string[]).includes(field)) continue;
    const name = camel(field);
    if (name === "threads") {
      throw fieldError(`${field} is a setting of the whole batch (vall-e batch --threads / vall-e worker --threads)`);
    }
    const key = (REQUEST_FIELDS as readonly string[]).includes(name)
      ? name
      : (SAMPLING_FIELDS as readonly string[]).includes(name)
        ? `sampling.${name}`
        : undefined;
    if (key === undefined) {
      throw fieldError(
        `Unknown field ${JSON.stringify(field)} (a line has id, text, voice, seed and the request settings: ${[
          ...REQUEST_FIELDS,
          ...SAMPLING_FIELDS,
        ].join(", ")}, in camelCase or snake_case)`,
      );
    }
    const earlier = written.get(key);
    if (earlier !== undefined) throw fieldError(`Give ${name} once, not as both ${earlier} and ${field}`);
    written.set(key, field);
    if (value === null) throw new InvalidArgumentError(`Expected a value for ${field}, got null`);
    if (key.startsWith("sampling.")) sampling[name] = value;
    else settings[name] = value;
  }
  if (Object.keys(sampling).length > 0) settings.sampling = sampling;
  return { settings: settings as LineSettings["settings"], written };
}

/**
 * Check the settings, the text and the seed by the library's rules (resolveRequest); a message names the field as the
 * line wrote it. `hasVoice`: whether the line names a voice (ns / sr need one).
 */
export function checkSettings(
  text: string,
  seed: number | undefined,
  { settings, written }: LineSettings,
  hasVoice: boolean,
): void {
  try {
    resolveRequest({
      text,
      ...settings,
      ...(seed === undefined ? {} : { seed }),
      ...(hasVoice ? { reference: "voice" } : {}),
    });
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    const message = error.message.replace(
      / for ((?:sampling\.)?[a-zA-Z]+)(,| got|$)/,
      (whole, name: string, end: string) => {
        const field = written.get(name) ?? written.get(`sampling.${name}`);
        return field === undefined ? whole : ` for ${field}${end}`;
      },
    );
    throw new InvalidArgumentError(message, { cause: error });
  }
}

function fieldError(message: string): VallEError {
  return new VallEError("ERR_MANIFEST_FIELD", message);
}
