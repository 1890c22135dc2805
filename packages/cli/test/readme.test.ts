/**
 * The root README's examples, run as written — in their offline form where they would download the models (the
 * README says so: offline, `--model tiny` / `--codec tiny` / `Engine.load({ models: "tiny" })`): every `sh` line
 * after the quick start (first-run.test.ts runs those through setup.sh), the stage-by-stage commands of its prose, the
 * server and its curl line, and the TypeScript blocks (transpiled as a user's build would, imports pointed at this
 * checkout's packages). A README edit that breaks an example fails here.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { tempDir } from "@tooling/config/temp-dir";
import { parseWav } from "@vall-e/codec";
import { tinyBundle } from "@vall-e/pipeline";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { bin, freePort, offlineEnv, Running, vallEIn, writeSineWav } from "./processes.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const readme = readFileSync(join(root, "README.md"), "utf8");
const dir = tempDir("cli-readme-");
const env = offlineEnv(dir);

/** The code blocks of one language, in order. */
function blocks(language: string): string[] {
  return [...readme.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, "g"))].map((m) => m[1] as string);
}

/** A README command line (a trailing `# comment` dropped, `\` continuations joined) as argv. */
function argv(line: string): string[] {
  const words = [...line.replace(/\s+#\s.*$/, "").matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)];
  return words.map((m) => (m[1] ?? m[2] ?? m[3]) as string);
}

/** The offline form of a `vall-e …` argv: the tiny model files for whatever the command would download. */
function offline(args: string[]): string[] {
  const [command] = args;
  const has = (flag: string) => args.includes(flag);
  const add: string[] = [];
  if (command === "tts" && !has("--model") && !has("--replay")) add.push("--model", "tiny");
  if (command === "serve" && !has("--model")) add.push("--model", "tiny");
  if (command === "generate" && !has("--model")) add.push("--model", "tiny");
  if (command === "phonemize" && !has("--tokenizer")) add.push("--tokenizer", "tiny");
  if (command === "encode" && !has("--codec")) add.push("--codec", "tiny");
  if (command === "decode" && !has("--vocos")) add.push("--vocos", "tiny");
  if (command === "voices" && args[1] === "add" && !has("--codec")) add.push("--codec", "tiny");
  return [...args, ...add];
}

function seconds(path: string): number {
  const audio = parseWav(readFileSync(path));
  return (audio.channels[0]?.length ?? 0) / audio.sampleRate;
}

beforeAll(() => {
  writeSineWav(join(dir, "voice.wav"), 24_000, 16_000, 9); // the voice.wav the examples name
});

describe("the README's examples, as written (offline forms)", () => {
  it("every `pnpm exec vall-e` line of its sh blocks, in order, from one folder", async () => {
    const lines = blocks("sh")
      .flatMap((block) => block.replace(/\\\n\s*/g, " ").split("\n"))
      .filter((line) => line.startsWith("pnpm exec vall-e ") && !/ serve /.test(line));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    for (const line of lines) {
      const args = offline(argv(line).slice(3));
      const run = await vallEIn(dir, args, env, 120_000);
      expect(run.code, `${line}\n${run.stderr}`).toBe(0);
      // The file each example writes (the last -o) holds speech.
      const output = args[args.lastIndexOf("-o") + 1] as string;
      expect(seconds(join(dir, output)), line).toBeGreaterThan(0.5);
    }
    // The replay example says: the same WAV, byte for byte.
    expect(readFileSync(join(dir, "again.wav")).equals(readFileSync(join(dir, "out.wav")))).toBe(true);
  }, 300_000);

  it("the stage-by-stage commands of its prose, in order", async () => {
    const prose = readme.slice(readme.indexOf("Or stage by stage"), readme.indexOf("```ts"));
    const staged = [...prose.matchAll(/`(vall-e (?:phonemize|encode|generate|decode) [^`]+)`/g)].map((m) => m[1]);
    expect(staged.map((line) => (line as string).split(" ")[1])).toEqual(["phonemize", "encode", "generate", "decode"]);
    for (const line of staged) {
      const run = await vallEIn(dir, offline(argv(line as string).slice(1)), env, 120_000);
      expect(run.code, `${line}\n${run.stderr}`).toBe(0);
    }
    expect(seconds(join(dir, "out.wav"))).toBeGreaterThan(0.5);
  }, 120_000);

  it("the server example: serve, then its curl line", async () => {
    const [block] = blocks("sh").filter((b) => b.includes("vall-e serve"));
    const [serveLine, ...curlLines] = (block as string)
      .replace(/\\\n\s*/g, " ")
      .trim()
      .split("\n");
    const port = String(await freePort());
    const args = offline(argv(serveLine as string).slice(3)).map((arg) => (arg === "8080" ? port : arg));
    // The server's voice library in the test's folder (not the user's ~/.local/share/vall-e/voices).
    const serverEnv = { ...env, VALL_E_VOICES_DIR: join(dir, "server-voices") };
    const server = new Running(process.execPath, [bin, ...args], serverEnv, 120_000, dir);
    try {
      await server.waitFor(/ready: POST/, 60_000);
      const curl = (curlLines[0] as string).replace("127.0.0.1:8080", `127.0.0.1:${port}`);
      execFileSync("sh", ["-c", curl], { cwd: dir, timeout: 60_000 });
      expect(seconds(join(dir, "hello.wav"))).toBeGreaterThan(0.5);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it("the CLI README's examples (packages/cli/README.md `Example: …`), with the files they name in place", async () => {
    const cliReadme = readFileSync(join(root, "packages", "cli", "README.md"), "utf8");
    const examples = [...cliReadme.matchAll(/Example: `([^`]+)`/g)].map((m) => m[1] as string);
    expect(examples.length).toBeGreaterThanOrEqual(5);
    const folder = join(dir, "cli-readme");
    mkdirSync(folder, { recursive: true });
    const localEnv = { ...env, VALL_E_VOICES_DIR: join(folder, "voices") };
    // The files the examples name: a voice, codes, and Vocos weights under the hub's file name (the tiny ones).
    writeSineWav(join(folder, "anna.wav"), 24_000, 16_000, 7);
    const tiny = await tinyBundle(join(dir, "tiny"));
    copyFileSync(tiny.vocos, join(folder, "pytorch_model.bin"));
    copyFileSync(join(dirname(tiny.vocos), "config.yaml"), join(folder, "config.yaml"));
    expect((await vallEIn(folder, ["encode", "anna.wav", "-o", "codes.npy", "--codec", "tiny"], localEnv)).code).toBe(
      0,
    );
    for (const example of examples) {
      for (const line of example.split(" && ")) {
        const args = argv(line).slice(1);
        // `models pull` downloads; its offline form generates the tiny bundle.
        const runnable = args[0] === "models" && args[1] === "pull" ? ["models", "pull", "--tiny"] : offline(args);
        const run = await vallEIn(folder, runnable, localEnv, 120_000);
        expect(run.code, `${line}\n${run.stderr}`).toBe(0);
      }
    }
    expect(seconds(join(folder, "out.wav"))).toBeGreaterThan(0.1);
    expect(seconds(join(folder, "hello.wav"))).toBeGreaterThan(0.5);
  }, 180_000);

  it("the TypeScript blocks, transpiled as a user's build would, run against this checkout", async () => {
    const require = createRequire(import.meta.url);
    const url = (name: string) => pathToFileURL(require.resolve(name)).href;
    const scripts = blocks("ts");
    expect(scripts.length).toBeGreaterThanOrEqual(2);
    for (const [index, source] of scripts.entries()) {
      // The offline form the README's comment gives, and imports pointed at this checkout's built packages.
      const code = source
        .replace("Engine.load();", 'Engine.load({ models: "tiny" });')
        .replace(/from "(@vall-e\/[a-z-]+)"/g, (_, name: string) => `from "${url(name)}"`);
      const { outputText } = ts.transpileModule(code, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      });
      const file = join(dir, `example-${index}.mjs`);
      writeFileSync(file, outputText);
      const run = await new Running(process.execPath, [file], env, 120_000, dir).exited;
      expect(run.code, `${source}\n${run.stderr}`).toBe(0);
    }
    expect(existsSync(join(dir, "out.wav"))).toBe(true);
  }, 180_000);
});
