/**
 * `--play`: the written WAV played through an audio player the system already has — no audio library bundled.
 * VALL_E_PLAYER names one ("mpv --no-video", a path); otherwise the first on PATH of PipeWire's pw-play, PulseAudio's
 * paplay, ALSA's aplay, ffmpeg's ffplay, macOS's afplay and SoX's play. Found before any work, so a machine without
 * one is told at once (exit 2), not after the synthesis.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { VallEError } from "@vall-e/core";

export interface Player {
  command: string;
  args: readonly string[];
}

/** Players tried in order, with the arguments that make them play one file and exit quietly. */
export const PLAYERS: readonly Player[] = [
  { command: "pw-play", args: [] },
  { command: "paplay", args: [] },
  { command: "aplay", args: ["-q"] },
  { command: "ffplay", args: ["-nodisp", "-autoexit", "-loglevel", "error"] },
  { command: "afplay", args: [] },
  { command: "play", args: ["-q"] },
];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Where `command` is on PATH (or itself, when it is a path), if it is an executable file. */
function which(command: string, env: NodeJS.ProcessEnv): string | undefined {
  if (command.includes("/")) return executable(command) ? command : undefined;
  for (const folder of (env.PATH ?? "").split(delimiter)) {
    if (folder === "" || !isAbsolute(folder)) continue;
    const candidate = join(folder, command);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/** The player to use, or a usage error saying what to install. */
export function findPlayer(env: NodeJS.ProcessEnv = process.env): Player {
  const chosen = env.VALL_E_PLAYER?.trim();
  if (chosen) {
    const [command, ...args] = chosen.split(/\s+/) as [string, ...string[]];
    const path = which(command, env);
    if (!path)
      throw new VallEError("ERR_USAGE", `--play: VALL_E_PLAYER names ${command}, which is not an executable on PATH`);
    return { command: path, args };
  }
  for (const player of PLAYERS) {
    const path = which(player.command, env);
    if (path) return { command: path, args: player.args };
  }
  throw new VallEError(
    "ERR_USAGE",
    `--play needs an audio player, and none is on PATH (looked for ${PLAYERS.map((p) => p.command).join(", ")}): ` +
      "install one (Debian: apt-get install alsa-utils), set VALL_E_PLAYER, or play the -o file yourself",
  );
}

/** Play `file` to its end (stopped when `signal` aborts); a player that fails is ERR_PLAYBACK naming it. */
export function play(player: Player, file: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return resolve(); // interrupted before the playback started: nothing to play
    const child = spawn(player.command, [...player.args, file], { stdio: ["ignore", "ignore", "inherit"] });
    const stop = () => child.kill("SIGTERM");
    signal?.addEventListener("abort", stop, { once: true });
    child.on("error", (error) =>
      reject(new VallEError("ERR_PLAYBACK", `--play: cannot start ${player.command}: ${error.message}`)),
    );
    child.on("close", (code, killed) => {
      signal?.removeEventListener("abort", stop);
      if (code === 0 || signal?.aborted) resolve();
      else {
        const how = killed ? `was killed by ${killed}` : `exited with code ${code}`;
        reject(new VallEError("ERR_PLAYBACK", `--play: ${player.command} ${how} playing ${file}`));
      }
    });
  });
}
