/**
 * Model files the per-stage commands need when no path is given: `<name>` in VALL_E_MODEL_DIR, then in the model
 * cache (the pipeline's model resolution; downloads arrive with the pipeline issue).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { VallEError } from "@vall-e/native";

export async function resolveModelFile(
  explicit: string | undefined,
  name: string,
  option: string,
  what: string,
): Promise<string> {
  if (explicit) return explicit;
  const { modelDirectories } = await import("@vall-e/pipeline");
  const { modelDir, cacheDir } = modelDirectories();
  const candidates = [modelDir, cacheDir]
    .filter((dir): dir is string => dir !== undefined)
    .map((dir) => join(dir, name));
  const found = candidates.find((path) => existsSync(path));
  if (found) return found;
  throw new VallEError(
    "ERR_USAGE",
    `No ${what}: pass ${option}, or put ${name} in VALL_E_MODEL_DIR (looked in: ${candidates.join(", ")})`,
  );
}
