/**
 * `--play`: the written WAV handed to the system's player (here a stand-in script on PATH that records what it was
 * given — the test machine has no sound card), and a clear usage error, before any work, where there is none.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { EXIT_OK, EXIT_USAGE } from "../src/exit-codes.js";
import { offlineEnv, vallE } from "./processes.js";

const dir = tempDir("cli-play-");

/** A player named `name` in its own folder: it writes its arguments and a copy of the file it was given. */
function standIn(name: string): { folder: string; log: string; copy: string } {
  const folder = join(dir, `bin-${name}`);
  mkdirSync(folder, { recursive: true });
  const log = join(dir, `${name}.args`);
  const copy = join(dir, `${name}.copy.wav`);
  const script = join(folder, name);
  writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$@" > '${log}'\nfor last; do :; done\n/bin/cp "$last" '${copy}'\n`);
  chmodSync(script, 0o755);
  return { folder, log, copy };
}

describe("--play", () => {
  it("plays the written WAV with the first player on PATH, with its quiet flags", async () => {
    const aplay = standIn("aplay");
    const out = join(dir, "hi.wav");
    const run = await vallE(["tts", "Hi.", "--model", "tiny", "--max-steps", "2", "-o", out, "--play"], {
      ...offlineEnv(dir),
      PATH: aplay.folder,
    });
    expect(run.code, run.stderr).toBe(EXIT_OK);
    expect(run.stderr).toContain(`playing ${out} (aplay)…`);
    expect(readFileSync(aplay.log, "utf8")).toBe(`-q\n${out}\n`);
    expect(readFileSync(aplay.copy).equals(readFileSync(out))).toBe(true);
  });

  it("VALL_E_PLAYER chooses the player; decode plays too", async () => {
    const mine = standIn("my-player");
    const codes = join(dir, "codes.json");
    writeFileSync(
      codes,
      JSON.stringify({ format: "vall-e.codes/1", codes: Array.from({ length: 8 }, () => [1, 2, 3]) }),
    );
    const out = join(dir, "decoded.wav");
    const run = await vallE(["decode", codes, "--vocos", "tiny", "-o", out, "--play"], {
      ...offlineEnv(dir),
      VALL_E_PLAYER: `${join(mine.folder, "my-player")} --volume 50`,
    });
    expect(run.code, run.stderr).toBe(EXIT_OK);
    expect(readFileSync(mine.log, "utf8")).toBe(`--volume\n50\n${out}\n`);
  });

  it("no player: a usage error naming what to install, before any work; -o - is refused", async () => {
    const empty = join(dir, "no-players");
    mkdirSync(empty, { recursive: true });
    const out = join(dir, "never.wav");
    const run = await vallE(["tts", "Hi.", "--model", "tiny", "-o", out, "--play"], {
      ...offlineEnv(dir),
      PATH: empty,
    });
    expect(run).toMatchObject({
      code: EXIT_USAGE,
      stderr:
        "error: --play needs an audio player, and none is on PATH (looked for pw-play, paplay, aplay, ffplay, afplay, " +
        "play): install one (Debian: apt-get install alsa-utils), set VALL_E_PLAYER, or play the -o file yourself\n",
    });
    const piped = await vallE(["tts", "Hi.", "--model", "tiny", "-o", "-", "--play"], offlineEnv(dir));
    expect(piped.stderr).toBe("error: --play plays the written file: give -o FILE (or pipe -o - into a player)\n");
    const missing = await vallE(["tts", "Hi.", "--model", "tiny", "-o", out, "--play"], {
      ...offlineEnv(dir),
      VALL_E_PLAYER: "no-such-player",
    });
    expect(missing.stderr).toBe(
      "error: --play: VALL_E_PLAYER names no-such-player, which is not an executable on PATH\n",
    );
  });
});
