/** Where the voice library lives: VALL_E_VOICES_DIR, else $XDG_DATA_HOME/vall-e/voices (~/.local/share/vall-e/voices). */
import { homedir } from "node:os";
import { join } from "node:path";

export function defaultVoicesDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VALL_E_VOICES_DIR) return env.VALL_E_VOICES_DIR;
  const data = env.XDG_DATA_HOME || join(env.HOME || homedir(), ".local", "share");
  return join(data, "vall-e", "voices");
}
