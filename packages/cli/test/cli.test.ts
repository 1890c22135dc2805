import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixture } from "@tooling/config/fixtures";
import { tempDir } from "@tooling/config/temp-dir";
import { encodeWav } from "@vall-e/codec";
import { CancelledError, InvalidArgumentError } from "@vall-e/core";
import { NativeError } from "@vall-e/native";
import { describe, expect, it } from "vitest";
import { EXIT_CANCELLED, EXIT_FAILURE, EXIT_USAGE, exitCodeFor } from "../src/exit-codes.js";

const bin = fileURLToPath(new URL("../bin/vall-e.js", import.meta.url));
const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
  .version;

function vallE(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    // No test reaches the hub: a missing model is reported, not downloaded.
    env: { ...process.env, NO_COLOR: "1", HF_HUB_OFFLINE: "1", ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const missingAddon = { VALL_E_NATIVE_PATH: "/nonexistent/vall_e.node" };

describe("vall-e", () => {
  it("--version prints the version on stdout", () => {
    expect(vallE(["--version"])).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("--help works without the native addon", () => {
    const result = vallE(["--help"], missingAddon);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: vall-e [options] [command]");
    expect(result.stdout).toContain("doctor");
    expect(result.stderr).toBe("");
  });

  it("doctor --json prints one JSON document with ggml's view of the machine", () => {
    const result = vallE(["doctor", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      ok: true,
      version,
      node: { ok: true, version: process.version },
      addon: { ok: true, ggml: { version: "0.25.1", commit: "de3ff81" } },
      espeakNg: { ok: true },
    });
    expect(report.addon.ggml.defaultThreads).toBeGreaterThanOrEqual(1);
    expect(report.models.cacheDir).toMatch(/vall-e$/);
    expect(Object.keys(report.models.bundle)).toEqual([
      "vall_e-Q8_0.gguf",
      "encodec.bin",
      "tokenizer.json",
      "vocos-encodec-24khz/pytorch_model.bin",
    ]);
    expect(Array.isArray(report.warnings)).toBe(true);
  });

  it("doctor warns about a VALL_E_MODEL_DIR that is not there and about being offline with files missing", () => {
    const cache = tempDir("cli-doctor-");
    const result = vallE(["doctor", "--json"], {
      VALL_E_MODEL_DIR: "/nonexistent",
      XDG_CACHE_HOME: cache,
      HF_HUB_OFFLINE: "1",
    });
    const report = JSON.parse(result.stdout);
    expect(report.models.offline).toBe(true);
    expect(report.warnings).toEqual([
      "VALL_E_MODEL_DIR is /nonexistent, which is not a folder: nothing is found there",
      "HF_HUB_OFFLINE is set and vall_e-Q8_0.gguf, encodec.bin, tokenizer.json, vocos-encodec-24khz/pytorch_model.bin are not here: tts cannot run with the default models (--model tiny works offline)",
    ]);
    const text = vallE(["doctor"], { VALL_E_MODEL_DIR: "/nonexistent", XDG_CACHE_HOME: cache, HF_HUB_OFFLINE: "1" });
    expect(text.stdout).toContain("warn VALL_E_MODEL_DIR is /nonexistent, which is not a folder");
  });

  it("doctor reports a missing addon, with what to do, and exits 1", () => {
    const result = vallE(["doctor", "--json"], missingAddon);
    expect(result.code).toBe(EXIT_FAILURE);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(false);
    expect(report.addon).toMatchObject({ ok: false, error: { code: "ERR_NATIVE_NOT_BUILT" } });
    expect(report.addon.error.message).toBe(
      "VALL_E_NATIVE_PATH is /nonexistent/vall_e.node, which does not exist. Point it at a built vall_e.node, or unset it to use the installed one.",
    );

    const human = vallE(["doctor"], missingAddon);
    expect(human.code).toBe(EXIT_FAILURE);
    expect(human.stdout).toContain(
      "FAIL addon      VALL_E_NATIVE_PATH is /nonexistent/vall_e.node, which does not exist.",
    );
  });

  it("doctor prints a readable report", () => {
    const result = vallE(["doctor"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ok {3}addon/);
    expect(result.stdout).toContain("loaded     source build: a source build of this package exists");
    expect(result.stdout).toContain("ggml       0.25.1 (de3ff81)");
    expect(result.stdout).toContain("everything vall-e needs is here");
  });

  it("a usage error exits 2 with the message on stderr and nothing on stdout", () => {
    const unknownOption = vallE(["doctor", "--bogus"]);
    expect(unknownOption.code).toBe(EXIT_USAGE);
    expect(unknownOption.stdout).toBe("");
    expect(unknownOption.stderr).toContain("error: unknown option '--bogus'");

    const unknownCommand = vallE(["speak"]);
    expect(unknownCommand.code).toBe(EXIT_USAGE);
    expect(unknownCommand.stderr).toContain("error: unknown command 'speak'");
  });
});

describe("exitCodeFor", () => {
  it("maps validation to 2, cancellation to 130 and everything else to 1", () => {
    expect(exitCodeFor(new InvalidArgumentError("Expected x for y, got z"))).toBe(EXIT_USAGE);
    expect(exitCodeFor(new CancelledError())).toBe(EXIT_CANCELLED);
    expect(exitCodeFor(new DOMException("aborted", "AbortError"))).toBe(EXIT_CANCELLED);
    expect(exitCodeFor(new NativeError("VALL_E_ERR_COMPUTE", "ggml failed"))).toBe(EXIT_FAILURE);
    expect(exitCodeFor(new Error("boom"))).toBe(EXIT_FAILURE);
  });
});

const tokenizerJson = fixture("vall-e", "tokenizer.json");

describe.skipIf(!tokenizerJson.present)(`vall-e phonemize ${tokenizerJson.reason}`, () => {
  it("prints the IPA and the ids", () => {
    const result = vallE(["phonemize", "Hello world.", "--lang", "en", "--tokenizer", tokenizerJson.path]);
    expect(result).toEqual({ code: 0, stdout: "həlˈoʊ wˈɜːld.\n1 22 111 100 4 37 115 169 11 2\n", stderr: "" });
  });

  it("--json prints exactly the artifact, and reads text from stdin with -", () => {
    const result = spawnSync(
      process.execPath,
      [bin, "phonemize", "-", "--lang", "en", "--json", "--tokenizer", tokenizerJson.path],
      {
        input: "Once again, excellent work.",
        encoding: "utf8",
      },
    );
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      format: "vall-e.phonemes/1",
      ipa: "wˈʌns ɐɡˈɛn, ˈɛksələnt wˈɜːk.",
      tokens: [1, 211, 33, 4, 48, 57, 123, 9, 4, 83, 171, 111, 139, 4, 37, 115, 25, 11, 2],
    });
  });

  it("-o writes the artifact file; vall-e-phonemize is the same command", () => {
    const out = join(tempDir("cli-"), "hello.phonemes.json");
    const stage = fileURLToPath(new URL("../bin/vall-e-phonemize.js", import.meta.url));
    const result = spawnSync(
      process.execPath,
      [stage, "Hello world.", "-l", "en", "-o", out, "--tokenizer", tokenizerJson.path],
      {
        encoding: "utf8",
      },
    );
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(`wrote ${out} (10 tokens)\n`);
    expect(JSON.parse(readFileSync(out, "utf8")).tokens).toEqual([1, 22, 111, 100, 4, 37, 115, 169, 11, 2]);
  });

  it("bad input exits 2 with the message; a missing tokenizer names the file and --tokenizer tiny (exit 1)", () => {
    const empty = vallE(["phonemize", "  ", "--tokenizer", tokenizerJson.path]);
    expect(empty.code).toBe(EXIT_USAGE);
    expect(empty.stderr).toBe('error: Expected non-empty text for text, got "  "\n');
    const language = vallE(["phonemize", "hi", "--lang", "xx"]);
    expect(language.code).toBe(EXIT_USAGE);
    expect(language.stderr).toContain(
      "error: option '-l, --lang <language>' argument 'xx' is invalid. Allowed choices are auto, en, ja, de, fr, zh, ko.",
    );
    const noTokenizer = vallE(["phonemize", "hi"], {
      VALL_E_MODEL_DIR: "/nonexistent",
      XDG_CACHE_HOME: "/nonexistent",
    });
    expect(noTokenizer.code).toBe(EXIT_FAILURE);
    expect(noTokenizer.stderr).toContain(
      "error: The model files are not on this machine and cannot be downloaded (HF_HUB_OFFLINE is set). Needed: tokenizer.json (ecker/vall-e, branch hf).",
    );
    // The advice fits the command: phonemize takes --tokenizer, not --model.
    expect(noTokenizer.stderr).toContain("or use --tokenizer tiny (an offline random-weight model");
    const wav = join(tempDir("cli-advice-"), "in.wav");
    writeFileSync(wav, encodeWav(new Float32Array(2400), 24000));
    const noCodec = vallE(["encode", wav, "-o", `${wav}.npy`], {
      VALL_E_MODEL_DIR: "/nonexistent",
      XDG_CACHE_HOME: "/nonexistent",
    });
    expect(noCodec.stderr).toContain("or use --codec tiny (an offline random-weight model");
    const badFile = vallE(["phonemize", "hi", "--tokenizer", "/nonexistent/tokenizer.json"]);
    expect(badFile).toMatchObject({
      code: EXIT_USAGE,
      stderr: "error: Tokenizer file not found: /nonexistent/tokenizer.json\n",
    });
  });
});

const encodecDir = fixture("encodec");
const vocosFixture = fixture("vocos", "vocos_random.pt");

describe.skipIf(!encodecDir.present)(`vall-e encode / decode / inspect ${encodecDir.reason}`, () => {
  const weights = `${encodecDir.path}/encodec_random_f16.bin`;
  const wav = `${encodecDir.path}/prompt_24k.wav`;

  it("encodes a WAV to .npy and decodes it back to a WAV; inspect describes both", () => {
    const dir = tempDir("cli-codec-");
    const codes = join(dir, "prompt.npy");
    const encoded = vallE(["encode", wav, "-o", codes, "--codec", weights, "--bandwidth", "6"]);
    expect(encoded).toEqual({ code: 0, stdout: "", stderr: `wrote ${codes} (8 codebooks × 225 frames, 3.00 s)\n` });
    const report = JSON.parse(vallE(["inspect", codes, "--json"]).stdout);
    expect(report).toMatchObject({ kind: "codes", codebooks: 8, frames: 225, durationSeconds: 3 });
    expect(report.codebookStats).toHaveLength(8);

    const out = join(dir, "out.wav");
    expect(vallE(["decode", codes, "-o", out, "--vocoder", "encodec", "--codec", weights]).code).toBe(0);
    if (vocosFixture.present) {
      // As the Vocos issue writes it.
      const vocosOut = join(dir, "vocos.wav");
      const args = ["decode", codes, "-o", vocosOut, "--vocoder", "vocos", "--vocos", vocosFixture.path];
      expect(vallE([...args, "--sample-format", "f32"])).toEqual({
        code: 0,
        stdout: "",
        stderr: `wrote ${vocosOut} (3.00 s at 24000 Hz, Vocos)\n`,
      });
      expect(JSON.parse(vallE(["inspect", vocosOut, "--json"]).stdout)).toMatchObject({ samples: 72000 });
      expect(vallE(["decode", codes, "-o", vocosOut, "--codec", weights])).toMatchObject({
        code: EXIT_USAGE,
        stderr:
          "error: --codec names EnCodec's weights, which decode with --vocoder encodec; Vocos (the default) reads --vocos\n",
      });
    }
    expect(JSON.parse(vallE(["inspect", out, "--json"]).stdout)).toMatchObject({
      kind: "audio",
      sampleRate: 24000,
      channels: 1,
      samples: 72000,
    });
  });

  it("decode -o - writes the WAV to stdout and nothing else; vall-e-codec runs the same commands", () => {
    const stage = fileURLToPath(new URL("../bin/vall-e-codec.js", import.meta.url));
    const result = spawnSync(process.execPath, [stage, "encode", wav, "-o", "-", "--codec", weights, "-b", "1.5"], {
      encoding: "utf8",
    });
    expect(result.status).toBe(0);
    const artifact = JSON.parse(result.stdout);
    expect([artifact.codebooks, artifact.frames]).toEqual([2, 225]);
    const dir = tempDir("cli-codec-");
    writeFileSync(join(dir, "c.json"), result.stdout);
    const decoded = spawnSync(process.execPath, [
      stage,
      "decode",
      join(dir, "c.json"),
      "-o",
      "-",
      "--vocoder",
      "encodec",
      "--codec",
      weights,
      "--sample-format",
      "f32",
    ]);
    expect(decoded.status).toBe(0);
    expect(decoded.stdout.subarray(0, 4).toString()).toBe("RIFF");
    expect(decoded.stdout.length).toBe(44 + 4 * 72000);
    expect(spawnSync(process.execPath, [stage, "phonemize", "x"], { encoding: "utf8" }).stderr).toContain(
      "error: unknown command 'phonemize'",
    );
  });

  it("bad input exits 2 with the message", () => {
    expect(vallE(["encode", "/nonexistent.wav", "-o", "/tmp/x.npy", "--codec", weights])).toMatchObject({
      code: EXIT_USAGE,
      stderr: "error: Audio file not found: /nonexistent.wav\n",
    });
    expect(vallE(["encode", wav, "-o", "/tmp/x.npy", "--codec", weights, "-b", "5"]).stderr).toContain(
      "error: option '-b, --bandwidth <kbps>' argument '5' is invalid. Allowed choices are 1.5, 3, 6, 12, 24.",
    );
    expect(vallE(["decode", wav, "-o", "/tmp/x.wav", "--vocoder", "encodec", "--codec", weights])).toMatchObject({
      code: EXIT_USAGE,
      stderr: `error: ${wav}: not a codes file by its name (expected .npy, .json or .enc)\n`,
    });
    expect(vallE(["inspect", "/etc/hostname"])).toMatchObject({ code: EXIT_USAGE });
  });
});

const lmDir = fixture("lm");

describe.skipIf(!lmDir.present)(`vall-e lm forward ${lmDir.reason}`, () => {
  it("writes the case's logits as float32 .npy (matching the reference within 5e-3)", () => {
    const out = join(tempDir("cli-lm-"), "ar.npy");
    const result = vallE([
      "lm",
      "forward",
      "--model",
      `${lmDir.path}/valle_tiny_random_f16.gguf`,
      "--input",
      `${lmDir.path}/ar_1.json`,
      "-o",
      out,
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`wrote ${out}: 1 × 1025 logits (head AR:0:0, 74 tokens)\n`);
    const bytes = readFileSync(out);
    expect(bytes.subarray(10, 10 + bytes.readUInt16LE(8)).toString("latin1")).toContain(
      "'descr': '<f4', 'fortran_order': False, 'shape': (1, 1025)",
    );
    const header = (b: Buffer) => 10 + b.readUInt16LE(8);
    const ours = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset + header(bytes), bytes.byteOffset + bytes.length),
    );
    const ref = readFileSync(`${lmDir.path}/ar_1.logits.npy`);
    const theirs = new Float32Array(ref.buffer.slice(ref.byteOffset + header(ref), ref.byteOffset + ref.length));
    let worst = 0;
    for (let i = 0; i < theirs.length; i++)
      worst = Math.max(worst, Math.abs((ours[i] as number) - (theirs[i] as number)));
    expect(worst).toBeLessThanOrEqual(5e-3);
  });

  it("--dump-hidden writes each layer's intermediates as .npy with an index", () => {
    const dir = tempDir("cli-lm-dump-");
    const out = join(dir, "logits.npy");
    const dump = join(dir, "hidden");
    const result = vallE([
      "lm",
      "forward",
      "--model",
      `${lmDir.path}/valle_tiny_random_f16.gguf`,
      "--input",
      `${lmDir.path}/nar_1.json`,
      "-o",
      out,
      "--dump-hidden",
      dump,
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`wrote 11 intermediates to ${dump} (index.json lists them)\n`);
    const index = JSON.parse(readFileSync(join(dump, "index.json"), "utf8"));
    const names = index.tensors.map((t: { name: string }) => t.name);
    expect(names).toEqual([
      "inp_embd",
      ...[0, 1].flatMap((l) => [`l${l}.q`, `l${l}.k`, `l${l}.attn_out`, `l${l}.out`]),
      "out_norm",
      "logits",
    ]);
    const tokens = index.positions.length;
    expect(index.rows).toHaveLength(tokens);
    expect(index.causal).toBe(false);
    expect(index.tensors[0]).toEqual({ name: "inp_embd", file: "inp_embd.npy", shape: [tokens, 256] });
    expect(readFileSync(join(dump, "l1.out.npy")).toString("latin1")).toContain(`'shape': (${tokens}, 256)`);
    expect(readFileSync(join(dump, "logits.npy"))).toEqual(readFileSync(out));
  });

  it("vall-e-lm is the same command; bad input exits 2", () => {
    const stage = fileURLToPath(new URL("../bin/vall-e-lm.js", import.meta.url));
    const help = spawnSync(process.execPath, [stage, "forward", "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--nar-attention <mask>");
    const missing = vallE([
      "lm",
      "forward",
      "--model",
      `${lmDir.path}/valle_tiny_random_f16.gguf`,
      "--input",
      "/nonexistent.json",
      "-o",
      "-",
    ]);
    expect(missing).toMatchObject({ code: EXIT_USAGE, stderr: "error: Input file not found: /nonexistent.json\n" });
  });
});

describe.skipIf(!lmDir.present)(`vall-e generate ${lmDir.reason}`, () => {
  const dir = tempDir("cli-generate-");
  const model = `${lmDir.path}/valle_tiny_random_f16.gguf`;
  const phonemes = join(dir, "p.json");
  writeFileSync(
    phonemes,
    JSON.stringify({
      format: "vall-e.phonemes/1",
      text: "Hello there.",
      language: "en",
      voice: "en-us",
      ipa: "həlˈoʊ ðˈɛɹ.",
      tokens: [1, 22, 111, 100, 4, 46, 144, 11, 2],
      tokenizer: "test",
    }),
  );
  const prompt = join(dir, "prompt.json");
  const promptCodes = Array.from({ length: 8 }, (_, l) =>
    Array.from({ length: 30 }, (_, t) => (l * 131 + t * 17) % 1024),
  );
  writeFileSync(
    prompt,
    JSON.stringify({ format: "vall-e.codes/1", sampleRate: 24000, frameRate: 75, codes: promptCodes }),
  );
  const run = (out: string, extra: string[] = []) =>
    vallE(["generate", "--phonemes", phonemes, "--prompt", prompt, "-o", out, "--model", model, ...extra]);

  it("writes 8 × frames codes that `vall-e inspect` reads; the same seed repeats the run exactly", () => {
    const a = join(dir, "a.npy");
    const first = run(a, ["--seed", "7", "--max-steps", "6", "--max-duration", "2"]);
    expect(first.code).toBe(0);
    // The stage line (stderr is not a terminal), then what was written.
    expect(first.stderr).toMatch(
      /^\[generate\] .*RTF [\d.]+\)\nwrote .*a\.npy: 8 × \d+ codes \([\d.]+ s, nar-len\); seed 7\n$/,
    );
    expect(vallE(["inspect", a]).stdout).toMatch(/^codes: 8 codebooks × \d+ frames/);
    const b = join(dir, "b.npy");
    expect(run(b, ["--seed", "7", "--max-steps", "6", "--max-duration", "2", "-t", "1"]).code).toBe(0);
    expect(readFileSync(b)).toEqual(readFileSync(a));
    const ar = join(dir, "ar.json");
    const third = run(ar, [
      "--modality",
      "ar+nar",
      "--max-duration",
      "0.5",
      "--ras-window",
      "8",
      "--mirostat-tau",
      "3",
    ]);
    expect(third.code).toBe(0);
    expect(third.stderr).toMatch(/ar\+nar.*; seed \d+\n$/);
    const stage = fileURLToPath(new URL("../bin/vall-e-lm.js", import.meta.url));
    const help = spawnSync(process.execPath, [stage, "generate", "--help"], { encoding: "utf8" });
    expect(help.stdout).toContain("--top-p <p>");
    expect(help.stdout).toContain("(default: 12)");
  });

  it("bad flags exit 2 naming the flag", () => {
    const out = join(dir, "never.npy");
    expect(run(out, ["--top-p", "1.5"])).toMatchObject({
      code: EXIT_USAGE,
      stderr: "error: Expected a number in (0, 1] for --top-p, got 1.5\n",
    });
    expect(run(out, ["--ar-temperature", "-1"])).toMatchObject({
      code: EXIT_USAGE,
      stderr: "error: Expected a number ≥ 0 for --ar-temperature, got -1\n",
    });
    expect(run(out, ["--top-k", "many"])).toMatchObject({
      code: EXIT_USAGE,
      stderr: 'error: Expected an integer for --top-k, got "many"\n',
    });
    expect(run(out, ["--beam-width", "20"])).toMatchObject({
      code: EXIT_USAGE,
      stderr: "error: Expected an integer from 0 to 16 for --beam-width, got 20\n",
    });
    expect(run(out, ["--modality", "ar"]).code).toBe(EXIT_USAGE);
    expect(() => readFileSync(out)).toThrow();
  });
});

const encodecWeights = fixture("encodec", "encodec_random_f16.bin");

const vocosWeights = fixture("vocos", "vocos_random.pt");

describe.skipIf(!lmDir.present || !encodecWeights.present || !vocosWeights.present)(
  `vall-e tts ${lmDir.reason}${encodecWeights.reason}${vocosWeights.reason}`,
  () => {
    const dir = tempDir("cli-tts-");
    const voice = join(dir, "voice.wav");
    const samples = Float32Array.from({ length: 12000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 180 * i) / 12000));
    writeFileSync(voice, encodeWav(samples, 12000)); // 12 kHz: the pipeline resamples
    const models = [
      "--model",
      `${lmDir.path}/valle_tiny_random_f16.gguf`,
      "--codec",
      encodecWeights.path,
      "--vocos",
      vocosWeights.path,
    ];
    const limits = ["--max-steps", "3", "--max-duration", "1.1", "--lang", "en", "--prompt-seconds", "0.5"];

    it("speaks the text into a WAV (same seed, same bytes); --json summary; -o - carries only the WAV", () => {
      const a = join(dir, "a.wav");
      const first = vallE([
        "tts",
        "Hello there. Bye now.",
        "--prompt",
        voice,
        "-o",
        a,
        ...models,
        ...limits,
        "--seed",
        "9",
        "--json",
      ]);
      expect(first.code).toBe(0);
      const summary = JSON.parse(first.stdout);
      expect(summary.sentences.map((s: { text: string; seed: number }) => [s.text, s.seed])).toEqual([
        ["Hello there.", 9],
        ["Bye now.", 10],
      ]);
      expect(first.stderr).toMatch(/wrote .*a\.wav: [\d.]+ s, 2 sentence\(s\); seed 9\n$/);
      const b = join(dir, "b.wav");
      const text = join(dir, "text.txt");
      writeFileSync(text, "Hello there. Bye now.");
      expect(
        vallE(["tts", "--text-file", text, "--prompt", voice, "-o", b, ...models, ...limits, "--seed", "9"]).code,
      ).toBe(0);
      expect(readFileSync(b)).toEqual(readFileSync(a));
      const piped = spawnSync(process.execPath, [
        bin,
        "tts",
        "Hello there. Bye now.",
        "--prompt",
        voice,
        "-o",
        "-",
        ...models,
        ...limits,
        "--seed",
        "9",
      ]);
      expect(piped.status).toBe(0);
      expect(Buffer.from(piped.stdout).subarray(44)).toEqual(readFileSync(a).subarray(44)); // streamed: same samples
    });

    it("bad input exits 2 with the problem named", () => {
      expect(vallE(["tts", "--text-file", join(dir, "none.txt"), "-o", join(dir, "x.wav"), ...models])).toMatchObject({
        code: EXIT_USAGE,
        stderr: `error: Text file not found: ${join(dir, "none.txt")}\n`,
      });
      expect(vallE(["tts", "hi", "--text-file", voice, "-o", join(dir, "x.wav"), ...models])).toMatchObject({
        code: EXIT_USAGE,
        stderr: "error: Give one input, not a text argument and --text-file\n",
      });
      expect(vallE(["tts", "hi", "-o", join(dir, "x.wav"), ...models, "--top-p", "0"])).toMatchObject({
        code: EXIT_USAGE,
        stderr: "error: Expected a number in (0, 1] for --top-p, got 0\n",
      });
      expect(
        vallE(["tts", "hi", "--prompt", join(dir, "none.wav"), "-o", join(dir, "x.wav"), ...models, ...limits]).code,
      ).toBe(EXIT_USAGE);
      expect(() => readFileSync(join(dir, "x.wav"))).toThrow();
    });

    it("decodes with Vocos by default, with EnCodec on --vocoder encodec; run.json says which", () => {
      const [vocos, encodec] = ["vocos", "encodec"].map((vocoder) => {
        const out = join(dir, `${vocoder}.wav`);
        const artifacts = join(dir, `${vocoder}-artifacts`);
        const flags = vocoder === "vocos" ? models : models.slice(0, 4);
        const run = vallE([
          "tts",
          "Hello there.",
          "--prompt",
          voice,
          "-o",
          out,
          ...flags,
          ...limits,
          "--seed",
          "3",
          "--artifacts",
          artifacts,
          ...(vocoder === "encodec" ? ["--vocoder", "encodec"] : []),
        ]);
        expect(run.code, run.stderr).toBe(0);
        const manifest = JSON.parse(readFileSync(join(artifacts, "run.json"), "utf8"));
        expect(manifest.options.decoder).toBe(vocoder);
        expect(manifest.models.vocos?.path).toBe(vocoder === "vocos" ? vocosWeights.path : undefined);
        return readFileSync(out);
      });
      expect(vocos?.length).toBe(encodec?.length);
      expect(vocos).not.toEqual(encodec);
      expect(vallE(["tts", "hi", "-o", join(dir, "x.wav"), ...models, "--vocoder", "encodec"])).toMatchObject({
        code: EXIT_USAGE,
        stderr: "error: --vocos names Vocos' weights; with --vocoder encodec, give --codec instead\n",
      });
      const offline = vallE(["tts", "hi", "-o", join(dir, "x.wav"), ...models.slice(0, 4)], {
        VALL_E_MODEL_DIR: "/nonexistent",
        XDG_CACHE_HOME: tempDir("cli-no-vocos-"),
      });
      expect(offline.code).toBe(EXIT_FAILURE);
      expect(offline.stderr).toContain("pytorch_model.bin (charactr/vocos-encodec-24khz, branch main)");
      expect(offline.stderr).toContain("or decode with `--vocoder encodec` (EnCodec's own decoder)");
      expect(() => readFileSync(join(dir, "x.wav"))).toThrow();
    });
  },
);
