// How to run npm from a build script: `npm` on POSIX; on Windows npm is a .cmd shim that child_process cannot start
// without a shell, so its own npm-cli.js is run with this Node (where Node's installer puts it).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** [command, leading arguments] that run npm. */
export function npmCommand() {
  if (process.platform !== "win32") return ["npm", []];
  const cli = join(dirname(process.execPath), "node_modules", "npm", "bin", "npm-cli.js");
  if (!existsSync(cli)) throw new Error(`npm is not where Node's Windows installer puts it (${cli})`);
  return [process.execPath, [cli]];
}
