/**
 * Every command's --help: examples of that command at the end (the quick start is `vall-e --help`'s alone), the
 * options under headings in one order (input, voice, model, generation, sampling, output), the global -q / -v listed,
 * every default written one way: `(default: X)`.
 */
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_OK, EXIT_USAGE } from "../src/exit-codes.js";
import { offlineEnv, vallE } from "./processes.js";

const dir = tempDir("cli-help-");
const env = offlineEnv(dir);

/** Every command, as its path under `vall-e`. */
const COMMANDS = [
  "phonemize",
  "encode",
  "decode",
  "inspect",
  "convert-codec",
  "tts",
  "generate",
  "stt",
  "eval",
  "lm",
  "lm generate",
  "lm forward",
  "serve",
  "batch",
  "worker",
  "voices",
  "voices add",
  "voices list",
  "voices remove",
  "models",
  "models pull",
  "models list",
  "models path",
  "doctor",
  "build-native",
];

/** The sections of a command whose flags are grouped (tts, generate, eval), in order. */
const GROUPED_SECTIONS = [
  "Input Options:",
  "Voice Options:",
  "Model Options:",
  "Generation Options:",
  "Sampling Options:",
  "Output Options:",
  "Options:",
  "Global Options:",
  "Examples:",
];

const helps = new Map<string, string>();

async function help(command: string): Promise<string> {
  const result = await vallE([...command.split(" ").filter(Boolean), "--help"], env, 30_000);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(EXIT_OK);
  return result.stdout;
}

/** The help's sections: heading → its lines (without the heading). */
function sections(text: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split("\n")) {
    if (/^[A-Z][A-Za-z ]*:$/.test(line)) {
      current = [];
      result.set(line, current);
    } else if (/^[A-Z]/.test(line)) {
      current = undefined;
    } else if (current && line !== "") {
      current.push(line);
    }
  }
  return result;
}

/** The long flags listed in a section. */
function flags(lines: readonly string[] | undefined): string[] {
  return (lines ?? []).flatMap((line) => /^ {2}(?:-\w, )?(--[a-z0-9-]+)/.exec(line)?.[1] ?? []);
}

/** The options of every heading, each option's description on one line. */
function optionTexts(text: string): string[] {
  const options: string[] = [];
  for (const [heading, lines] of sections(text)) {
    if (!/Options:$/.test(heading)) continue;
    for (const line of lines) {
      if (/^ {2}-/.test(line)) options.push(line.trim());
      else if (options.length > 0) options[options.length - 1] += ` ${line.trim()}`;
    }
  }
  return options;
}

beforeAll(async () => {
  for (const command of ["", ...COMMANDS]) helps.set(command, await help(command));
}, 120_000);

describe("vall-e --help", () => {
  it("starts with the quick start; no command's help repeats it", () => {
    const top = helps.get("") as string;
    expect(top.startsWith('Speak:\n  vall-e tts "Hello there." -o hello.wav ')).toBe(true);
    expect(top).toContain("\nUsage: vall-e [options] [command]\n");
    for (const command of COMMANDS) {
      expect(helps.get(command), command).not.toContain("Speak:");
      expect(helps.get(command), command).toMatch(new RegExp(`^Usage: vall-e ${command} `));
    }
  });

  it("lists every command this test knows", () => {
    const listed = (sections(helps.get("") as string).get("Commands:") ?? [])
      .map((line) => /^ {2}([a-z-]+)/.exec(line)?.[1])
      .filter((name) => name !== undefined && name !== "help");
    expect(listed.sort()).toEqual(COMMANDS.filter((c) => !c.includes(" ")).sort());
  });
});

describe("each command's --help", () => {
  for (const command of COMMANDS) {
    it(`vall-e ${command}: examples of ${command} last, -q and -v shown, defaults as (default: X)`, () => {
      const text = helps.get(command) as string;
      const all = sections(text);
      expect([...all.keys()].at(-1)).toBe("Examples:");
      const examples = all.get("Examples:") ?? [];
      // Each example: a comment saying what it does, then the command line.
      expect(examples.length).toBeGreaterThanOrEqual(2);
      expect(examples[0]).toMatch(/^ {2}# \S/);
      expect(examples.some((line) => new RegExp(`^  vall-e ${command}( |$)`).test(line))).toBe(true);

      const global = all.get("Global Options:") ?? [];
      expect(global.some((line) => /^ {2}-q, --quiet +print nothing on stderr but errors$/.test(line))).toBe(true);
      expect(global.some((line) => /^ {2}-v, --verbose +print debug details on stderr$/.test(line))).toBe(true);

      for (const option of optionTexts(text)) {
        // "(default: X)", or commander's "(choices: …, default: X)"; never "default X" or "off by default".
        expect(option.replace(/(\(|, )default: /g, ""), option).not.toMatch(/default/i);
      }
    });
  }

  it("vall-e tts: the examples, and the options under their headings in order", () => {
    const text = helps.get("tts") as string;
    expect(text.slice(text.indexOf("\nExamples:\n"))).toBe(
      [
        "",
        "Examples:",
        "  # in the voice of voice.wav (a few seconds of speech)",
        '  vall-e tts "Hello there." --prompt voice.wav -o hello.wav',
        "  # a text file in a voice of the library, played as it is spoken",
        "  vall-e tts --text-file story.txt --voice-ref anna -o - | aplay",
        "  # offline (random weights: noise), every stage's artifact kept",
        '  vall-e tts "Hello there." --model tiny --artifacts run/ -o hello.wav',
        "",
      ].join("\n"),
    );
    const all = sections(text);
    expect([...all.keys()]).toEqual(["Arguments:", ...GROUPED_SECTIONS]);
    expect(flags(all.get("Input Options:"))).toEqual([
      "--text-file",
      "--lang",
      "--max-text",
      "--phonemes",
      "--response-codes",
      "--replay",
    ]);
    expect(flags(all.get("Voice Options:"))).toEqual([
      "--prompt",
      "--prompt-codes",
      "--voice-ref",
      "--voices",
      "--prompt-seconds",
    ]);
    expect(flags(all.get("Model Options:"))).toEqual([
      "--model",
      "--codec",
      "--tokenizer",
      "--vocoder",
      "--vocos",
      "--quant",
    ]);
    expect(flags(all.get("Generation Options:"))).toEqual([
      "--task",
      "--modality",
      "--seed",
      "--threads",
      "--device",
      "--max-duration",
      "--max-steps",
      "--max-levels",
      "--remask",
      "--scoring",
      "--context-history",
      "--sentence-batch",
    ]);
    expect(flags(all.get("Sampling Options:"))).toEqual(
      expect.arrayContaining(["--ras-window", "--ras-ratio", "--ar-temperature", "--top-p", "--cfg-rescale"]),
    );
    expect(flags(all.get("Sampling Options:"))).toHaveLength(21);
    expect(flags(all.get("Output Options:"))).toEqual(["--output", "--json", "--play", "--artifacts"]);
    expect(flags(all.get("Options:"))).toEqual(["--help"]);
    expect(flags(all.get("Global Options:"))).toEqual(["--version", "--quiet", "--verbose"]);

    const options = optionTexts(text);
    const option = (flag: string) => options.find((o) => o.includes(`${flag} `)) ?? "";
    expect(option("--max-duration")).toBe(
      "--max-duration <seconds>        longest output of one sentence, in seconds (default: 12)",
    );
    expect(option("--max-text")).toBe(
      "--max-text <chars>              refuse a text longer than this many characters (default: 100000, about two hours of speech)",
    );
    expect(option("--quant")).toBe(
      "--quant <quant>                 which published LM to use: Q8_0, F16, BF16, Q4_K, Q3_K, Q2_K, in any letter case (default: Q8_0)",
    );
    expect(option("--output")).toBe('-o, --output <file>             the WAV to write ("-": stdout, not a terminal)');
    expect(option("--device")).toMatch(
      /^--device <device> +where the LM, the codec and Vocos run: auto \(a real GPU when this build has one/,
    );
  });

  it("vall-e generate (and lm generate): the same headings, and its own examples", () => {
    for (const [command, prefix] of [
      ["generate", "vall-e generate"],
      ["lm generate", "vall-e lm generate"],
    ] as const) {
      const all = sections(helps.get(command) as string);
      expect([...all.keys()], command).toEqual(GROUPED_SECTIONS);
      expect(flags(all.get("Input Options:"))).toEqual(["--phonemes"]);
      expect(flags(all.get("Voice Options:"))).toEqual(["--prompt"]);
      expect(flags(all.get("Model Options:"))).toEqual(["--model", "--quant"]);
      expect(flags(all.get("Output Options:"))).toEqual(expect.arrayContaining(["--output"]));
      expect(all.get("Examples:")).toEqual([
        "  # the LM stage: phonemes and a voice's codes in, response codes out",
        `  ${prefix} --phonemes hello.phonemes.json --prompt voice.codes.npy -o hello.codes.npy`,
        "  # AR then NAR with a fixed seed, the codes as JSON on stdout",
        `  ${prefix} --phonemes hello.phonemes.json --modality ar+nar --seed 1 -o -`,
      ]);
    }
  });

  it("a command without headings of its own keeps its options first, then Model Options", () => {
    expect([...sections(helps.get("decode") as string).keys()]).toEqual([
      "Arguments:",
      "Options:",
      "Model Options:",
      "Global Options:",
      "Examples:",
    ]);
  });
});

describe("global flags", () => {
  const out = join(dir, "never.wav");

  it("-q and -v together are refused, before or after the command", async () => {
    for (const args of [
      ["-q", "-v", "tts", "Hi.", "-o", out],
      ["tts", "Hi.", "-o", out, "--quiet", "--verbose"],
    ]) {
      const result = await vallE(args, env, 30_000);
      expect(result).toMatchObject({
        code: EXIT_USAGE,
        stdout: "",
        stderr: "error: Give -q (--quiet) or -v (--verbose), not both\n",
      });
    }
  });
});
