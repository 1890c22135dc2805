/**
 * A newcomer's first run: the README's quick start as written (its offline form fails fast with the way out; its
 * tiny form speaks), the tiny bundle answering with short sentences under default flags, and the espeak-ng demo voice.
 * CLI processes are spawned asynchronously (the test runner's event loop keeps ticking) on a private cache, offline.
 */
import { execFile } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "@tooling/config/temp-dir";
import { parseWav } from "@vall-e/codec";
import { describe, expect, it } from "vitest";
import { EXIT_FAILURE, EXIT_USAGE } from "../src/exit-codes.js";

const bin = fileURLToPath(new URL("../bin/vall-e.js", import.meta.url));
const root = fileURLToPath(new URL("../../..", import.meta.url));
const dir = tempDir("cli-first-run-");
const env: NodeJS.ProcessEnv = {
  ...process.env,
  NO_COLOR: "1",
  XDG_CACHE_HOME: join(dir, "cache"),
  HF_HUB_OFFLINE: "1",
};
delete env.VALL_E_MODEL_DIR;

function run(file: string, args: string[], cwd = dir): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, maxBuffer: 64 << 20, timeout: 300_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
const vallE = (args: string[]) => run(process.execPath, [bin, ...args]);
const seconds = (path: string) => {
  const audio = parseWav(readFileSync(path));
  return (audio.channels[0]?.length ?? 0) / audio.sampleRate;
};

/** The README's quick-start commands: the first code block after "## Quick start", then the block after it. */
function quickStart(): { first: string; tiny: string } {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Quick start"));
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  const command = (line: string) => line.replace(/\s+#.*$/, "").trim();
  return { first: command(blocks[0]?.split("\n")[0] as string), tiny: command(blocks[1]?.split("\n")[0] as string) };
}

/** Split a README command line into argv (double-quoted words kept whole). */
function argv(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => (m[1] ?? m[2]) as string);
}

describe("the first run", () => {
  it("the README's first command, offline: fails at once naming --model tiny; its tiny form speaks", async () => {
    const { first, tiny } = quickStart();
    expect(first).toBe('./setup.sh exec vall-e tts "Hello there." -o hello.wav');
    expect(tiny).toBe('./setup.sh exec vall-e tts "Hello there." --model tiny -o hello.wav');
    // As written, from the repository root (setup.sh finds everything installed and built, and runs the command).
    const [script, ...args] = argv(first);
    const out = join(root, "hello.wav");
    try {
      const offline = await run(join(root, script as string), args, root);
      expect(offline.code).toBe(EXIT_FAILURE);
      expect(offline.stderr).toContain("The model files are not on this machine and cannot be downloaded");
      expect(offline.stderr).toContain("or use --model tiny");
      const [, ...tinyArgs] = argv(tiny);
      const spoken = await run(join(root, script as string), tinyArgs, root);
      expect(spoken.stderr).toContain("no voice prompt (--prompt)");
      expect(spoken.code).toBe(0);
      expect(seconds(out)).toBeGreaterThan(0.5);
    } finally {
      rmSync(out, { force: true });
    }
  }, 300_000);

  it("tts on the tiny bundle with default flags: about a second per sentence", async () => {
    const out = join(dir, "out.wav");
    const result = await vallE(["tts", "Hello there. How are you?", "--model", "tiny", "-o", out]);
    expect(result.stderr).toContain("2 sentence(s)");
    expect(result.code).toBe(0);
    // The duration pass stops at once: each sentence is the 1 s floor (78 frames), plus the pause between them.
    expect(seconds(out)).toBeLessThanOrEqual(4);
    expect(seconds(out)).toBeCloseTo((2 * 78 * 320 + 0.15 * 24000) / 24000, 3);
  }, 120_000);

  it("--prompt espeak:<voice> clones a demo voice made on the fly; run.json records it and a replay repeats it", async () => {
    const out = join(dir, "espeak.wav");
    const artifacts = join(dir, "espeak-run");
    const args = ["tts", "Hi.", "--model", "tiny", "--prompt", "espeak:en-us", "--seed", "3", "--max-steps", "4"];
    const result = await vallE([...args, "-o", out, "--artifacts", artifacts]);
    expect(result.stderr).not.toContain("no voice prompt");
    expect(result.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(artifacts, "run.json"), "utf8"));
    expect(manifest.inputs.reference).toEqual(["espeak:en-us"]);
    const prompt = JSON.parse(readFileSync(join(artifacts, "prompt.codes.npy.json"), "utf8"));
    expect(prompt.frames).toBe(225); // 3 s of the demo sentence (it is longer than the prompt)
    const again = join(dir, "espeak-again.wav");
    expect((await vallE(["tts", "--replay", join(artifacts, "run.json"), "-o", again])).code).toBe(0);
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);

    const bad = await vallE(["tts", "Hi.", "--model", "tiny", "--prompt", "espeak:xx-nope", "-o", out]);
    expect(bad.code).toBe(EXIT_USAGE);
    expect(bad.stderr).toContain(
      'Expected an installed espeak-ng voice for espeak:<voice>, got "xx-nope" (espeak-ng --voices lists them)',
    );
    const injected = await vallE(["tts", "Hi.", "--model", "tiny", "--prompt", "espeak:--help", "-o", out]);
    expect(injected.code).toBe(EXIT_USAGE);
    expect(injected.stderr).toContain('Expected an espeak-ng voice name (e.g. en-us) for espeak:<voice>, got "--help"');
  }, 120_000);
});
