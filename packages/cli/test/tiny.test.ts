/**
 * End to end on the tiny bundle (generated into a temporary cache): every subcommand, tts with artifacts and each way
 * to resume it, run.json replay, stdout carrying only data, exit codes 0/1/2/130, model downloads from a local hub.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { closedPort, type HubStub, type HubStubFile, sha256, startHubStub } from "@tooling/config/hub-stub";
import { tempDir } from "@tooling/config/temp-dir";
import { encodeWav, parseWav } from "@vall-e/codec";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CANCELLED, EXIT_FAILURE, EXIT_USAGE } from "../src/exit-codes.js";

const bin = fileURLToPath(new URL("../bin/vall-e.js", import.meta.url));
const dir = tempDir("cli-tiny-");
/** Every run gets a private cache and no hub: nothing here reaches the network unless a test says so. */
const baseEnv = { NO_COLOR: "1", XDG_CACHE_HOME: join(dir, "cache"), HF_HUB_OFFLINE: "1", VALL_E_MODEL_DIR: "" };

function vallE(args: string[], env: NodeJS.ProcessEnv = {}, input?: string) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, ...baseEnv, ...env },
    ...(input === undefined ? {} : { input }),
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.toString("utf8") };
}

const voice = join(dir, "voice.wav");
writeFileSync(
  voice,
  encodeWav(
    Float32Array.from({ length: 12000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 180 * i) / 12000)),
    12000,
  ),
);
const limits = ["--max-steps", "3", "--max-duration", "0.8", "--lang", "en", "--prompt-seconds", "0.5", "-t", "2"];
const TEXT = "Hello there. Bye now.";

describe("vall-e on the tiny bundle", () => {
  const run = join(dir, "run");
  const wav = join(dir, "first.wav");

  beforeAll(() => {
    const first = vallE([
      "tts",
      TEXT,
      "--prompt",
      voice,
      "-o",
      wav,
      "--model",
      "tiny",
      "--artifacts",
      run,
      "--seed",
      "4",
      ...limits,
    ]);
    expect(first.stderr).toContain(
      "warning: using the tiny bundle — random weights for offline runs and tests: the audio is noise",
    );
    expect(first.code).toBe(0);
  });

  it("tts writes every artifact; each resume and the replay give the same WAV, byte for byte", () => {
    for (const name of [
      "prompt.codes.npy",
      "001.phonemes.json",
      "002.phonemes.json",
      "001.codes.npy",
      "002.codes.npy",
      "output.wav",
      "run.json",
    ]) {
      expect(existsSync(join(run, name)), name).toBe(true);
    }
    expect(readFileSync(join(run, "output.wav"))).toEqual(readFileSync(wav));
    const same = (args: string[], name: string) => {
      const out = join(dir, `${name}.wav`);
      // A replay takes its settings from run.json (passing them again is refused).
      const result = vallE([...args, "-o", out, ...(args.includes("--replay") ? ["-t", "2"] : limits)]);
      expect(result.stderr, name).not.toContain("error");
      expect(result.code, name).toBe(0);
      expect(readFileSync(out), name).toEqual(readFileSync(wav));
    };
    const phonemes = [join(run, "001.phonemes.json"), join(run, "002.phonemes.json")];
    same(
      [
        "tts",
        "--phonemes",
        ...phonemes,
        "--prompt-codes",
        join(run, "prompt.codes.npy"),
        "--model",
        "tiny",
        "--seed",
        "4",
      ],
      "from-phonemes",
    );
    same(
      ["tts", TEXT, "--prompt-codes", join(run, "prompt.codes.npy"), "--model", "tiny", "--seed", "4"],
      "from-prompt-codes",
    );
    same(
      ["tts", "--response-codes", join(run, "001.codes.npy"), join(run, "002.codes.npy"), "--vocos", "tiny"],
      "from-response-codes",
    );
    same(["tts", "--replay", join(run, "run.json")], "replay");
  });

  it("-o - streams only the WAV on stdout; --json only the summary; text from stdin and --text-file", () => {
    const piped = vallE(
      ["tts", "-", "--prompt", voice, "-o", "-", "--model", "tiny", "--seed", "4", ...limits],
      {},
      TEXT,
    );
    expect(piped.code).toBe(0);
    // Streamed: a header of unknown length (sizes 0xFFFFFFFF), then exactly the file's samples.
    const stdout = Buffer.from(piped.stdout);
    expect([stdout.readUInt32LE(4), stdout.readUInt32LE(40)]).toEqual([0xffffffff, 0xffffffff]);
    expect(stdout.subarray(8, 40)).toEqual(readFileSync(wav).subarray(8, 40));
    expect(stdout.subarray(44)).toEqual(readFileSync(wav).subarray(44));
    const textFile = join(dir, "text.txt");
    writeFileSync(textFile, TEXT);
    const json = vallE([
      "tts",
      "--text-file",
      textFile,
      "--prompt",
      voice,
      "-o",
      join(dir, "j.wav"),
      "--model",
      "tiny",
      "--seed",
      "4",
      "--json",
      ...limits,
    ]);
    expect(json.code).toBe(0);
    const summary = JSON.parse(json.stdout.toString("utf8"));
    expect(summary).toMatchObject({
      seed: 4,
      sampleRate: 24000,
      sentences: [
        { text: "Hello there.", seed: 4 },
        { text: "Bye now.", seed: 5 },
      ],
    });
    expect(readFileSync(join(dir, "j.wav"))).toEqual(readFileSync(wav));
  });

  it("every command runs on tiny: phonemize → generate, encode → decode, inspect, lm forward; models list/path/pull", () => {
    const phonemes = join(dir, "hi.phonemes.json");
    const p = vallE(["phonemize", "Hello.", "--lang", "en", "--tokenizer", "tiny", "-o", phonemes]);
    expect(p.code).toBe(0);
    const prompt = join(dir, "voice.codes.npy");
    expect(vallE(["encode", voice, "-o", prompt, "--codec", "tiny"]).code).toBe(0);
    const codes = join(dir, "hi.codes.npy");
    const g = vallE([
      "generate",
      "--phonemes",
      phonemes,
      "--prompt",
      prompt,
      "-o",
      codes,
      "--model",
      "tiny",
      "--seed",
      "1",
      "--max-steps",
      "2",
      "--max-duration",
      "0.5",
    ]);
    expect(g.stderr).toMatch(/wrote .*hi\.codes\.npy: 8 × \d+ codes/);
    expect(g.code).toBe(0);
    const out = join(dir, "hi.wav");
    expect(vallE(["decode", codes, "-o", out, "--vocos", "tiny"]).code).toBe(0);
    const encodecOut = join(dir, "hi-encodec.wav");
    expect(vallE(["decode", codes, "-o", encodecOut, "--vocoder", "encodec", "--codec", "tiny"]).code).toBe(0);
    expect(readFileSync(encodecOut).length).toBe(readFileSync(out).length);
    expect(parseWav(readFileSync(out)).sampleRate).toBe(24000);
    const inspect = vallE(["inspect", codes]);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout.toString()).toContain("8");

    const input = join(dir, "case.json");
    writeFileSync(input, JSON.stringify({ mode: "len", phonemes: [1, 20, 21, 2], lang: "en", rvqLevel: 0, len: [0] }));
    const logits = vallE(["lm", "forward", "--model", "tiny", "--input", input, "-o", join(dir, "logits.npy")]);
    expect(logits.code).toBe(0);
    expect(readFileSync(join(dir, "logits.npy")).subarray(1, 6).toString()).toBe("NUMPY");
    const convert = vallE(["convert-codec", join(dir, "no-checkpoint"), "-o", join(dir, "converted.bin")]);
    expect(convert.code).toBe(EXIT_USAGE);
    expect(existsSync(join(dir, "converted.bin"))).toBe(false);

    const cache = join(baseEnv.XDG_CACHE_HOME, "vall-e");
    expect(vallE(["models", "path"]).stdout.toString()).toBe(`${cache}\n`);
    const pulled = vallE(["models", "pull", "--tiny"]);
    expect(pulled.stdout.toString().trim().split("\n")).toEqual(
      ["vall_e-tiny.gguf", "encodec.bin", "tokenizer.json", "vocos-tiny.pt"].map((f) => join(cache, "tiny", f)),
    );
    const list = JSON.parse(vallE(["models", "list", "--json"]).stdout.toString());
    expect(list.files.map((f: { name: string; location: string }) => `${f.location}:${f.name}`)).toEqual([
      "tiny:encodec.bin",
      "tiny:tokenizer.json",
      "tiny:vall_e-tiny.gguf",
      "tiny:vocos-tiny.pt",
    ]);
  });

  it("Ctrl-C during generation cleans up and exits 130, leaving no output file", async () => {
    const out = join(dir, "interrupted.wav");
    const child = spawn(
      process.execPath,
      [bin, "-v", "tts", TEXT, "--model", "tiny", "-o", out, "--max-duration", "20", "--max-steps", "200", "-t", "2"],
      {
        env: { ...process.env, ...baseEnv },
      },
    );
    let stderr = "";
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes("nar-len…") && !child.killed) child.kill("SIGINT");
      });
      child.on("exit", (exitCode) => resolve(exitCode));
    });
    expect(stderr).toContain("interrupted: cleaning up");
    expect(code).toBe(EXIT_CANCELLED);
    expect(existsSync(out)).toBe(false);
  });

  it("bad input: exact messages, exit 2 (usage) or 1 (what failed), nothing written", () => {
    const x = join(dir, "x.wav");
    expect(vallE(["tts", "hi", "--prompt", join(dir, "none.wav"), "-o", x, "--model", "tiny"])).toMatchObject({
      code: EXIT_USAGE,
      stderr: expect.stringContaining(`error: Audio file not found: ${join(dir, "none.wav")}\n`),
    });
    expect(vallE(["tts", "--text-file", join(dir, "none.txt"), "-o", x, "--model", "tiny"])).toMatchObject({
      code: EXIT_USAGE,
      stderr: `error: Text file not found: ${join(dir, "none.txt")}\n`,
    });
    const unreadable = join(dir, "a-directory.txt");
    mkdirSync(unreadable, { recursive: true });
    const notText = vallE(["tts", "--text-file", unreadable, "-o", x, "--model", "tiny"]);
    expect(notText.code).toBe(EXIT_USAGE);
    expect(notText.stderr).toBe(`error: Text file ${unreadable} is not a regular file or a pipe (it is a folder)\n`);
    expect(vallE(["tts", "hi", "-o", x, "--quant", "Q9"])).toMatchObject({
      code: EXIT_USAGE,
      stderr: 'error: Unknown quant "Q9": expected one of Q8_0, F16, BF16, Q4_K, Q3_K, Q2_K\n',
    });
    expect(
      vallE([
        "tts",
        "hi",
        "-o",
        x,
        "--model",
        "tiny",
        "--prompt",
        voice,
        "--prompt-codes",
        join(run, "prompt.codes.npy"),
      ]),
    ).toMatchObject({
      code: EXIT_USAGE,
      stderr: "error: Give the voice with --prompt or --prompt-codes, not both\n",
    });
    expect(vallE(["tts", "hi", "--text-file", voice, "-o", x, "--model", "tiny"])).toMatchObject({
      code: EXIT_USAGE,
      stderr: "error: Give one input, not a text argument and --text-file\n",
    });
    expect(vallE(["tts", "--replay", join(run, "run.json"), "-o", x, "--seed", "1", "--model", "tiny"])).toMatchObject({
      code: EXIT_USAGE,
      stderr: "error: --replay runs the run.json as recorded; it does not take --model, --seed\n",
    });
    const offline = vallE(["tts", "hi", "-o", x]);
    expect(offline.code).toBe(EXIT_FAILURE);
    expect(offline.stderr).toMatch(
      /^error: The model files are not on this machine and cannot be downloaded \(HF_HUB_OFFLINE is set\)\. Needed: vall_e-Q8_0\.gguf \(ecker\/vall-e, branch gguf\), tokenizer\.json \(ecker\/vall-e, branch hf\), pytorch_model\.bin \(charactr\/vocos-encodec-24khz, branch main\)\..*or decode with `--vocoder encodec`.*or use --model tiny/,
    );
    expect(existsSync(x)).toBe(false);
  });

  it("a corrupt cached model is reported with the way to repair it", () => {
    const cache = join(dir, "corrupt-cache");
    mkdirSync(join(cache, "vall-e"), { recursive: true });
    const tinyDir = join(baseEnv.XDG_CACHE_HOME, "vall-e", "tiny");
    writeFileSync(join(cache, "vall-e", "vall_e-Q8_0.gguf"), randomBytes(4096));
    writeFileSync(join(cache, "vall-e", "encodec.bin"), readFileSync(join(tinyDir, "encodec.bin")));
    writeFileSync(join(cache, "vall-e", "tokenizer.json"), readFileSync(join(tinyDir, "tokenizer.json")));
    mkdirSync(join(cache, "vall-e", "vocos-encodec-24khz"));
    for (const [from, to] of [
      ["vocos-tiny.pt", "pytorch_model.bin"],
      ["config.yaml", "config.yaml"],
    ] as const) {
      writeFileSync(join(cache, "vall-e", "vocos-encodec-24khz", to), readFileSync(join(tinyDir, from)));
    }
    const result = vallE(["tts", "hi", "-o", join(dir, "c.wav"), ...limits], { XDG_CACHE_HOME: cache });
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toBe(
      "no voice prompt (--prompt): speaking in a voice of the model's own choosing\n" +
        `error: ${join(cache, "vall-e", "vall_e-Q8_0.gguf")} is not a readable GGUF file (not a valid gguf file: not starting with GGUF magic number) — this file is in the model cache and looks damaged: \`vall-e models pull\` checks it against the hub and downloads it again\n`,
    );
  });
});

describe("vall-e models pull against a local hub (HF_ENDPOINT)", () => {
  const files = new Map<string, HubStubFile>([
    ["gguf/vall_e-Q8_0.gguf", { bytes: randomBytes(400_000), lfs: true }],
    ["gguf/encodec.bin", { bytes: randomBytes(100_000), lfs: true }],
    ["hf/tokenizer.json", { bytes: Buffer.from("{}\n"), lfs: false }],
    ["charactr/vocos-encodec-24khz/main/pytorch_model.bin", { bytes: randomBytes(50_000), lfs: true }],
    ["charactr/vocos-encodec-24khz/main/config.yaml", { bytes: Buffer.from("head: {}\n"), lfs: false }],
  ]);
  let hub: HubStub;
  beforeAll(async () => {
    hub = await startHubStub(files);
  });
  afterAll(() => hub.close());

  function pull(cache: string) {
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, "models", "pull"], {
        env: { ...process.env, ...baseEnv, XDG_CACHE_HOME: cache, HF_HUB_OFFLINE: "", HF_ENDPOINT: hub.endpoint },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => {
        stdout += c.toString();
      });
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      child.on("exit", (code) => resolve({ code, stdout, stderr }));
    });
  }

  it("two processes pull at once: the bundle is downloaded once and both end with the verified files", async () => {
    const cache = tempDir("cli-pull-");
    hub.fault = { slow: 20 };
    hub.requests.length = 0;
    const [a, b] = await Promise.all([pull(cache), pull(cache)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const expected = ["vall_e-Q8_0.gguf", "encodec.bin", "tokenizer.json", "vocos-encodec-24khz/pytorch_model.bin"].map(
      (f) => join(cache, "vall-e", f),
    );
    expect(a.stdout.trim().split("\n")).toEqual(expected);
    expect(b.stdout.trim().split("\n")).toEqual(expected);
    expect(readFileSync(expected[0] as string)).toEqual(files.get("gguf/vall_e-Q8_0.gguf")?.bytes);
    const bodies = hub.requests.filter((r) => r.method === "GET" && r.url.endsWith(".gguf") && r.range !== "bytes=0-0");
    expect(bodies).toHaveLength(1);
    expect(`${a.stderr}${b.stderr}`).toContain("waiting for another process downloading vall_e-Q8_0.gguf…");
    expect(`${a.stderr}${b.stderr}`).toContain(
      `vall_e-Q8_0.gguf: up to date (sha256 ${sha256(files.get("gguf/vall_e-Q8_0.gguf")?.bytes as Buffer).slice(0, 12)}…)`,
    );
  });

  it("an unreachable hub with an empty cache: exit 1, naming the files and --model tiny", async () => {
    const port = await closedPort();
    const result = vallE(["tts", "hi", "-o", join(dir, "u.wav")], {
      HF_HUB_OFFLINE: "",
      HF_ENDPOINT: `http://127.0.0.1:${port}`,
      XDG_CACHE_HOME: tempDir("cli-empty-"),
    });
    expect(result.code).toBe(EXIT_FAILURE);
    expect(result.stderr).toContain(`(Cannot reach http://127.0.0.1:${port} (ECONNREFUSED))`);
    expect(result.stderr).toContain("or use --model tiny");
  });
});
