/**
 * The screen a person sees: `vall-e tts` on a pseudo-terminal (util-linux `script`), its progress bar drawn, then
 * Ctrl-C typed. The bytes the terminal got are replayed through a small screen model (carriage return, line feed,
 * cursor column / up, erase line, cursor show / hide — the sequences cli-progress writes; any other is a failure),
 * (and save / restore cursor, line wrap off / on) and the final screen must hold the interrupt message on a line of its own, no bar left behind, the cursor shown.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { EXIT_CANCELLED } from "../src/exit-codes.js";
import { bin, offlineEnv } from "./processes.js";

const dir = tempDir("cli-terminal-");
const hasScript = (() => {
  try {
    return existsSync("/usr/bin/script");
  } catch {
    return false;
  }
})();

/** The lines a terminal shows after `bytes` (only the sequences our output may use), and whether the cursor shows. */
export function renderScreen(bytes: string): { lines: string[]; cursorShown: boolean } {
  const lines: string[][] = [[]];
  let row = 0;
  let column = 0;
  let cursorShown = true;
  let saved = { row: 0, column: 0 };
  for (let i = 0; i < bytes.length; ) {
    const char = bytes[i] as string;
    if (char === "\x1b" && (bytes[i + 1] === "7" || bytes[i + 1] === "8")) {
      // Save / restore the cursor (DECSC / DECRC), as cli-progress does around its bar.
      if (bytes[i + 1] === "7") saved = { row, column };
      else ({ row, column } = saved);
      i += 2;
      continue;
    }
    if (char === "\x1b") {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: escape sequences are what this reads
      const match = /^\x1b\[(\??)(\d*)([A-Za-z])/.exec(bytes.slice(i, i + 16));
      if (!match)
        throw new Error(
          `an escape sequence the screen model does not know at ${JSON.stringify(bytes.slice(i, i + 12))}`,
        );
      const [sequence, private_, number, command] = match as unknown as [string, string, string, string];
      const n = number === "" ? undefined : Number(number);
      if (private_ === "?" && n === 25 && (command === "l" || command === "h")) cursorShown = command === "h";
      else if (private_ === "?" && n === 7 && (command === "l" || command === "h")) {
        // line wrapping off / on: the bar fits the line either way
      } else if (command === "G") column = (n ?? 1) - 1;
      else if (command === "A") row = Math.max(0, row - (n ?? 1));
      else if (command === "K" && (n ?? 0) === 0) (lines[row] as string[]).length = column;
      else if (command === "K" && n === 2) lines[row] = [];
      else if (command === "J" && (n ?? 0) === 0) {
        (lines[row] as string[]).length = column;
        lines.length = row + 1;
      } else throw new Error(`an escape sequence the screen model does not know: ${JSON.stringify(sequence)}`);
      i += sequence.length;
      continue;
    }
    i++;
    if (char === "\r") column = 0;
    else if (char === "\n") {
      row++;
      column = 0;
      lines[row] ??= [];
    } else {
      const line = lines[row] as string[];
      while (line.length < column) line.push(" ");
      line[column++] = char;
    }
  }
  return { lines: lines.map((line) => line.join("").trimEnd()), cursorShown };
}

describe.skipIf(!hasScript)("on a terminal", () => {
  it("Ctrl-C during tts: the bar is cleared, the message has its own line, the cursor comes back; exit 130", async () => {
    const out = join(dir, "interrupted.wav");
    const argv = [process.execPath, bin, "tts", "One. Two. Three. Four.", "--model", "tiny", "--max-steps", "400"];
    const command = [...argv, "-o", out].map((arg) => `'${arg}'`).join(" ");
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      env: { ...offlineEnv(dir), TERM: "xterm", COLUMNS: "100", LINES: "30" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let screen = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      screen += chunk;
    });
    const ended = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const killer = setTimeout(() => child.kill("SIGKILL"), 50_000);
    // Wait for the bar (its frame, then a few redraws), then type Ctrl-C.
    for (let waited = 0; !/\] \d+\/\d+/.test(screen) && waited < 40_000; waited += 20) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(screen, "no progress bar was drawn").toMatch(/\] \d+\/\d+/);
    child.stdin.write("\x03");
    const code = await ended;
    clearTimeout(killer);
    expect(code, screen).toBe(EXIT_CANCELLED);

    const { lines, cursorShown } = renderScreen(screen.replace(/\^C/g, ""));
    const shown = lines.filter((line) => line !== "");
    expect(
      shown.some((line) => line === "interrupted: cleaning up (Ctrl-C again to quit now)"),
      lines.join("\n"),
    ).toBe(true);
    expect(
      shown.filter((line) => /[█░]|\] \d+\/\d+/.test(line)),
      lines.join("\n"),
    ).toEqual([]);
    expect(cursorShown).toBe(true);
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it("the screen model follows what cli-progress writes", () => {
    const bar = (n: number) => `\x1b[1G1/4 nar-len [${"=".repeat(n)}${"-".repeat(4 - n)}] ${n}/4\x1b[0K`;
    const drawn = `before\n\x1b7\x1b[?25l\x1b[?7l${bar(1)}${bar(2)}`;
    expect(renderScreen(drawn).lines).toEqual(["before", "1/4 nar-len [==--] 2/4"]);
    const cleared = renderScreen(`${drawn}\x1b[?25h\x1b[?7h\x1b8\x1b[1G\x1b[2Kinterrupted\r\n`);
    expect(cleared).toEqual({ lines: ["before", "interrupted", ""], cursorShown: true });
    expect(() => renderScreen("\x1b[31mred")).toThrow("does not know");
  });
});
