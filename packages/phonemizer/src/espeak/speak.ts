/**
 * A voice to try before recording anyone: espeak-ng's own synthesizer (the `espeak-ng` program ./setup.sh installs)
 * speaks a demo sentence into a WAV, which the pipeline then uses as a voice reference (`--prompt espeak:en-us`).
 * A demo: a robot voice, but a real, reproducible reference (same espeak-ng version and voice → same samples).
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CancelledError, InvalidArgumentError, VallEError } from "@vall-e/core";

/** The prefix that names an espeak-ng voice as a reference: `espeak:<voice>`. */
export const ESPEAK_REFERENCE_PREFIX = "espeak:";

/** What the demo voice says: about 4 s, every vowel of English. */
export const ESPEAK_DEMO_TEXT =
  "The quick brown fox jumps over the lazy dog, and then it runs away across the quiet field.";

/** Whether a reference names an espeak-ng voice (`espeak:<voice>`). */
export function isEspeakReference(reference: string): boolean {
  return reference.startsWith(ESPEAK_REFERENCE_PREFIX);
}

/**
 * The WAV bytes of espeak-ng speaking `text` with `voice` (e.g. "en-us", "de", "fr"). Rejects an unknown voice
 * (InvalidArgumentError naming it) and a missing espeak-ng (ERR_ESPEAK_UNAVAILABLE); bounded by a 30 s timeout.
 */
export async function espeakSpeech(
  voice: string,
  options: { text?: string; signal?: AbortSignal } = {},
): Promise<Uint8Array> {
  if (typeof voice !== "string" || !/^[a-z][a-z0-9_+-]*(\/[a-z0-9_+-]+)?$/i.test(voice)) {
    throw new InvalidArgumentError(
      `Expected an espeak-ng voice name (e.g. en-us) for ${ESPEAK_REFERENCE_PREFIX}<voice>, got ${JSON.stringify(voice)}`,
    );
  }
  const text = options.text ?? ESPEAK_DEMO_TEXT;
  const dir = await mkdtemp(join(tmpdir(), "vall-e-espeak-"));
  const wav = join(dir, "voice.wav");
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        "espeak-ng",
        ["-v", voice, "-w", wav, "--", text],
        { timeout: 30_000, ...(options.signal ? { signal: options.signal } : {}) },
        (error, _stdout, stderr) => {
          if (!error) return resolve();
          if ((error as NodeJS.ErrnoException).code === "ENOENT") {
            return reject(
              new VallEError(
                "ERR_ESPEAK_UNAVAILABLE",
                "espeak-ng is not installed (apt-get install espeak-ng; ./setup.sh does this)",
                { cause: error },
              ),
            );
          }
          if (error.name === "AbortError")
            return reject(new CancelledError("espeak-ng was cancelled", { cause: error }));
          if (/voice does not exist/i.test(stderr)) {
            return reject(
              new InvalidArgumentError(
                `Expected an installed espeak-ng voice for ${ESPEAK_REFERENCE_PREFIX}<voice>, got ${JSON.stringify(voice)} (espeak-ng --voices lists them)`,
                { cause: error },
              ),
            );
          }
          reject(new VallEError("ERR_ESPEAK", `espeak-ng failed: ${stderr.trim() || error.message}`, { cause: error }));
        },
      );
    });
    return new Uint8Array(await readFile(wav));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
