// Where tests find the shared reference data: <repo>/../shared/fixtures (VALL_E_SHARED_DIR overrides <repo>/../shared).
// Tests never copy it into the repo; they skip, saying what is missing, when it is absent.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export function sharedDir() {
  return process.env.VALL_E_SHARED_DIR ? resolve(process.env.VALL_E_SHARED_DIR) : resolve(repoRoot, "..", "shared");
}

/**
 * @param {...string} parts path below shared/fixtures
 * @returns {{ path: string, present: boolean, reason: string }}
 */
export function fixture(...parts) {
  const path = join(sharedDir(), "fixtures", ...parts);
  const present = existsSync(path);
  return { path, present, reason: present ? "" : `skipped: fixture ${path} is absent` };
}
