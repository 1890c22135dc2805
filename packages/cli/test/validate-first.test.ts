/**
 * Bad values and unwritable outputs are refused before any model is resolved, downloaded or loaded — here with no
 * model anywhere and no network, so a check that came after resolution would answer "model files are not on this
 * machine" instead — and the message names the flag the user typed.
 */
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { EXIT_USAGE } from "../src/exit-codes.js";
import { vallE as runVallE } from "./processes.js";

const env = {
  ...process.env,
  NO_COLOR: "1",
  HF_HUB_OFFLINE: "1",
  XDG_CACHE_HOME: "/nonexistent",
  VALL_E_MODEL_DIR: "",
};
const vallE = (args: string[]) => runVallE(args, env, 60_000);

describe("validate before work", () => {
  const out = join(tempDir("cli-validate-"), "x.wav");
  const cases: [string[], string][] = [
    [["tts", "Hi.", "--seed", "-1"], "error: Expected an integer from 0 to 4294967295 for --seed, got -1"],
    [["tts", "Hi.", "--max-duration", "0"], "error: Expected seconds in (0, 600] for --max-duration, got 0"],
    [["tts", "Hi.", "--max-steps", "0"], "error: Expected an integer from 1 to 1000 for --max-steps, got 0"],
    [["tts", "Hi.", "--max-levels", "9"], "error: Expected an integer from 0 to 7 for --max-levels, got 9"],
    [["tts", "Hi.", "--top-p", "2"], "error: Expected a number in (0, 1] for --top-p, got 2"],
    [
      ["tts", "Hi.", "--seed", "4294967296"],
      "error: Expected an integer from 0 to 4294967295 for --seed, got 4294967296",
    ],
    [["tts", "Hi.", "--ras-window", "0"], "error: Expected an integer ≥ 1 for --ras-window, got 0"],
    [
      ["tts", "Hi.", "--ras-window", "8", "--ras-ratio", "2"],
      "error: Expected a number in (0, 1] for --ras-ratio, got 2",
    ],
    [
      ["tts", "Hi.", "--prompt-seconds", "1e308"],
      "error: Expected seconds from 0 to 600 (0: the references as they are) for --prompt-seconds, got 1e+308",
    ],
    [["tts", "Hi.", "--ar-temperature", "-1"], "error: Expected a number ≥ 0 for --ar-temperature, got -1"],
    [
      ["generate", "--phonemes", "p.json", "--seed", "-1"],
      "error: Expected an integer from 0 to 4294967295 for --seed, got -1",
    ],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(" ")}`, async () => {
      const result = await vallE([...args, "-o", out]);
      expect(result.stderr).toBe(`${message}\n`);
      expect(result.code).toBe(EXIT_USAGE);
    });
  }

  it("-q and -v together are refused; --quant takes any letter case", async () => {
    const both = await vallE(["-q", "-v", "tts", "Hi.", "-o", out]);
    expect(both.stderr).toBe("error: Give -q (--quiet) or -v (--verbose), not both\n");
    expect(both.code).toBe(EXIT_USAGE);
    const lower = await vallE(["tts", "Hi.", "--quant", "f16", "-o", out]);
    expect(lower.stderr).toContain("Needed: vall_e-F16.gguf (ecker/vall-e, branch gguf)");
    const unknown = await vallE(["tts", "Hi.", "--quant", "q5", "-o", out]);
    expect(unknown.stderr).toContain('Unknown quant "q5": expected one of Q8_0, F16, BF16, Q4_K, Q3_K, Q2_K');
    expect(unknown.code).toBe(EXIT_USAGE);
  });

  it("an output whose folder does not exist is refused before synthesis", async () => {
    const result = await vallE(["tts", "Hi.", "-o", "/nonexistent/dir/x.wav"]);
    expect(result.stderr).toBe(
      "error: Cannot write /nonexistent/dir/x.wav (-o): the folder /nonexistent/dir does not exist\n",
    );
    expect(result.code).toBe(EXIT_USAGE);
  });
});
