/**
 * `vall-e eval` on the tiny bundle: the JSON (phoneme error rate per utterance, figures) and the report, opened in
 * Debian's chromium (driven by playwright-core) to check that its players and images load.
 */
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { tempDir } from "@tooling/config/temp-dir";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { offlineEnv, vallE as runVallE, writeSineWav } from "./processes.js";

const dir = tempDir("cli-eval-");
const env = offlineEnv(dir);
const vallE = (args: string[]) => runVallE(args, env, 180_000);
const voice = writeSineWav(join(dir, "voice.wav"), 24000, 24000, 7);
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

describe("vall-e eval", () => {
  it("speaks, transcribes and scores each text; the JSON and the report (its players and images load)", async () => {
    const texts = join(dir, "texts.txt");
    writeFileSync(texts, "Hello there.\n\nHow are you today?\n");
    const report = join(dir, "out");
    const args = ["eval", "--texts", texts, "--prompt", voice, "--model", "tiny", "--report", report];
    const result = await vallE([...args, "--json", "--max-steps", "3", "--seed", "1"]);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout) as {
      summary: { items: number; meanPhonemeErrorRate: number };
      items: {
        text: string;
        phonemeErrorRate: number;
        reference: { tokens: number[] };
        transcript: { tokens: number[] };
      }[];
    };
    expect(json.summary.items).toBe(2);
    expect(json.items.map((i) => i.text)).toEqual(["Hello there.", "How are you today?"]);
    for (const item of json.items) {
      expect(item.phonemeErrorRate).toBeGreaterThanOrEqual(0);
      expect(item.reference.tokens[0]).toBe(1);
      expect(item.transcript.tokens.at(-1)).toBe(2);
    }
    expect(result.stderr).toMatch(/mean phoneme error rate \d\.\d{3} over 2 utterance\(s\)/);
    expect(readdirSync(report).sort()).toEqual([
      "001.codes.png",
      "001.spectrogram.png",
      "001.wav",
      "002.codes.png",
      "002.spectrogram.png",
      "002.wav",
      "index.html",
    ]);

    if (!existsSync(executablePath)) {
      throw new Error(
        `No Chromium at ${executablePath}: run ./setup.sh (it installs Debian's chromium), or set CHROMIUM_PATH`,
      );
    }
    const browser = await chromium.launch({ executablePath, args: ["--headless=new", "--no-sandbox"] });
    try {
      const page = await browser.newPage();
      await page.goto(pathToFileURL(join(report, "index.html")).href);
      await page.waitForFunction("[...document.images].every((img) => img.complete)");
      const images = await page.$$eval("img", (all) => all.map((img) => img.naturalWidth));
      expect(images).toHaveLength(4);
      for (const width of images) expect(width).toBeGreaterThan(10);
      const durations = await page.$$eval("audio", (all) =>
        Promise.all(
          all.map(
            (audio) =>
              new Promise<number>((resolve) => {
                if (audio.readyState >= 1) resolve(audio.duration);
                else audio.addEventListener("loadedmetadata", () => resolve(audio.duration), { once: true });
              }),
          ),
        ),
      );
      expect(durations).toHaveLength(2);
      for (const duration of durations) expect(duration).toBeGreaterThan(0.5);
    } finally {
      await browser.close();
    }
  }, 180_000);

  it("no texts is a usage error", async () => {
    const result = await vallE(["eval", "--model", "tiny"]);
    expect(result.stderr).toContain("Give the texts as arguments or with --texts FILE");
    expect(result.code).toBe(2);
  });
});
