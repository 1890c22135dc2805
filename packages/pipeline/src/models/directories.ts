/**
 * Where model bundles are looked for: explicit paths first, then VALL_E_MODEL_DIR, then the user cache
 * ($XDG_CACHE_HOME/vall-e, or ~/.cache/vall-e), which is also where downloads go.
 */
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

export interface ModelDirectories {
  /** VALL_E_MODEL_DIR, resolved, when set. */
  modelDir: string | undefined;
  /** The user cache: downloads land here. */
  cacheDir: string;
}

/** The model directories for an environment (default: this process's). */
export function modelDirectories(env: NodeJS.ProcessEnv = process.env): ModelDirectories {
  const modelDir = env.VALL_E_MODEL_DIR ? resolve(env.VALL_E_MODEL_DIR) : undefined;
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  const xdg = env.XDG_CACHE_HOME;
  const cacheRoot = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), ".cache");
  return { modelDir, cacheDir: join(cacheRoot, "vall-e") };
}
