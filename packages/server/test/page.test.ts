/**
 * The web page in a real browser (Debian's chromium driven by playwright-core) against the real server with the tiny
 * bundle: it loads without console errors; a WAV file becomes a voice; two sentences stream over SSE, play through
 * Web Audio as they arrive and end as a playable WAV with timings and a spectrogram; a microphone recording (Chromium's
 * fake device) becomes a voice; the API's own error message is shown. A screenshot goes to test-results/page.png.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "@tooling/config/temp-dir";
import { encodeWav, tinyBundle } from "@vall-e/pipeline";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SpeechServer, startServer } from "../src/serve.js";

const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const RESULTS_DIR = fileURLToPath(new URL("../test-results/", import.meta.url));
const MISSING_BROWSER =
  `No Chromium at ${executablePath}: run ./setup.sh (it installs Debian's chromium), ` +
  "or set CHROMIUM_PATH to a Chromium binary";

// The few browser shapes the code run inside the page uses (this package compiles without the DOM library).
interface PageAudio {
  readonly readyState: number;
  readonly duration: number;
  readonly src: string;
  readonly error: { code: number } | null;
  addEventListener(type: string, listener: () => void, options: { once: boolean }): void;
}
interface PageCanvas {
  readonly width: number;
  readonly height: number;
  getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}
declare const document: { querySelector(selector: string): unknown };

const tiny = await tinyBundle(tempDir("page-tiny-"));

let server: SpeechServer;
let browser: Browser | undefined;
let page: Page | undefined;
/** Console errors and uncaught exceptions of the page. */
const pageErrors: string[] = [];

/** The page; a missing browser fails the test (never skips it) with what to do. */
function thePage(): Page {
  if (!existsSync(executablePath)) throw new Error(MISSING_BROWSER);
  if (!page) throw new Error("The browser did not start (see the error of beforeAll)");
  return page;
}

beforeAll(async () => {
  server = await startServer({
    models: { lm: tiny.lm, codec: tiny.codec, tokenizer: tiny.tokenizer, vocos: tiny.vocos },
    port: 0,
    voicesDir: tempDir("page-voices-"),
    threads: 2,
  });
  await server.ready;
  if (!existsSync(executablePath)) return;
  browser = await chromium.launch({
    executablePath,
    args: [
      "--headless=new",
      "--no-sandbox",
      "--autoplay-policy=no-user-gesture-required",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => pageErrors.push(`pageerror: ${error.message}`));
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("the web page", () => {
  it("loads, finds the server ready and lists the voices, with no console errors", async () => {
    const p = thePage();
    const response = await p.goto(server.url);
    expect(response?.status()).toBe(200);
    await p.waitForSelector('#health[data-state="ok"]', { timeout: 10_000 });
    expect(await p.locator("#voice option").allTextContents()).toEqual(["No voice"]);
    expect(await p.isEnabled("#speak")).toBe(true);
    expect(await p.isEnabled("#record")).toBe(true); // the fake microphone
    expect(pageErrors).toEqual([]);
  });

  it("uploads a voice, speaks two sentences as a stream and shows the result, timings and spectrogram", async () => {
    const p = thePage();
    const rate = 16_000;
    const sine = Float32Array.from({ length: 1.5 * rate }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / rate));
    const file = join(tempDir("page-upload-"), "sine.wav");
    writeFileSync(file, encodeWav(sine, rate));

    await p.fill("#voice-name", "Sine tone");
    await p.setInputFiles("#voice-file", file);
    await p.click("#upload");
    await p.waitForSelector('#voice option:text("Sine tone (1.5 s)")', { state: "attached", timeout: 10_000 });
    await p.selectOption("#voice", { label: "Sine tone (1.5 s)" });
    expect(await p.inputValue("#voice")).toMatch(/^voice_[0-9a-f]{24}$/);

    await p.fill("#text", "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background.");
    await p.selectOption("#language", "en");
    await p.fill("#seed", "7");
    await p.fill("#max-steps", "4");
    await p.click("#speak");
    await p.waitForSelector('#result:is([data-state="done"], [data-state="error"])', { timeout: 40_000 });
    expect(await p.textContent("#error")).toBe("");
    expect(await p.getAttribute("#result", "data-state")).toBe("done");

    // Web Audio got the stream, one part per sentence.
    const streamed = Number(await p.getAttribute("#result", "data-stream-samples"));
    expect(streamed).toBeGreaterThan(0);
    expect(await p.locator("#parts li").count()).toBeGreaterThanOrEqual(2);

    // The whole result is a playable WAV of the same samples, also offered as a download.
    const duration = await p.evaluate(
      () =>
        new Promise<number>((resolve, reject) => {
          const audio = document.querySelector("audio") as PageAudio;
          if (audio.readyState >= 1) resolve(audio.duration);
          audio.addEventListener("loadedmetadata", () => resolve(audio.duration), { once: true });
          audio.addEventListener("error", () => reject(new Error(`audio error ${audio.error?.code}`)), { once: true });
        }),
    );
    expect(duration).toBeGreaterThan(1);
    expect(Math.abs(duration - streamed / 24_000)).toBeLessThan(0.01);
    const wav = await p.evaluate(async () => {
      const bytes = new Uint8Array(
        await (await fetch((document.querySelector("audio") as PageAudio).src)).arrayBuffer(),
      );
      const view = new DataView(bytes.buffer);
      const ascii = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
      return {
        riff: ascii(0),
        wave: ascii(8),
        format: view.getUint16(20, true),
        channels: view.getUint16(22, true),
        rate: view.getUint32(24, true),
        bits: view.getUint16(34, true),
        dataBytes: view.getUint32(40, true),
        length: bytes.length,
      };
    });
    expect(wav).toEqual({
      riff: "RIFF",
      wave: "WAVE",
      format: 1,
      channels: 1,
      rate: 24_000,
      bits: 16,
      dataBytes: streamed * 2,
      length: 44 + streamed * 2,
    });
    const download = p.locator("#download");
    expect(await download.getAttribute("href")).toMatch(/^blob:/);
    expect(await download.getAttribute("download")).toMatch(/^vall-e-.*\.wav$/);

    expect(await p.isVisible("#timings")).toBe(true);
    for (const id of ["#t-first", "#t-total", "#t-audio"]) expect(await p.textContent(id)).toMatch(/^\d+\.\d\d s$/);
    expect(await p.textContent("#t-rtf")).toMatch(/^\d+\.\d\d×$/);
    expect(await p.textContent("#t-seed")).toBe("7");
    // Time to first audio is at most the whole time. (Not strictly less: shown to 0.01 s, the two are equal when the
    // browser gets to the streamed bytes only as the response ends, as a loaded machine makes it do — CI saw 2.08 and
    // 2.08 with both parts received. The server's streaming itself is tested in server.test.ts.)
    const first = Number.parseFloat((await p.textContent("#t-first")) ?? "");
    const total = Number.parseFloat((await p.textContent("#t-total")) ?? "");
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(total);
    expect(await p.textContent("#t-audio")).toBe(`${(streamed / 24_000).toFixed(2)} s`);

    // The spectrogram is drawn: many distinct colours over a grid of sampled pixels.
    const colours = await p.evaluate(() => {
      const canvas = document.querySelector("#spectrogram") as PageCanvas;
      const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
      const seen = new Set<number>();
      for (let y = 0; y < canvas.height; y += 8) {
        for (let x = 0; x < canvas.width; x += 8) {
          const i = (y * canvas.width + x) * 4;
          seen.add(((pixels.data[i] ?? 0) << 16) | ((pixels.data[i + 1] ?? 0) << 8) | (pixels.data[i + 2] ?? 0));
        }
      }
      return seen.size;
    });
    expect(colours).toBeGreaterThan(20);

    mkdirSync(RESULTS_DIR, { recursive: true });
    await p.screenshot({ path: join(RESULTS_DIR, "page.png"), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it("records a voice from the microphone, encodes it as WAV and uploads it", async () => {
    const p = thePage();
    await p.fill("#voice-name", "Recorded");
    await p.click("#record");
    await p.waitForSelector('#record[aria-pressed="true"]');
    await p.waitForTimeout(1200);
    await p.click("#record");
    const option = p.locator("#voice option", { hasText: "Recorded (" });
    await option.waitFor({ state: "attached", timeout: 15_000 });
    const seconds = Number(/\(([\d.]+) s\)/.exec((await option.textContent()) ?? "")?.[1]);
    expect(seconds).toBeGreaterThan(0.8);
    expect(seconds).toBeLessThan(3);
    expect(await p.inputValue("#voice")).toBe(await option.getAttribute("value"));
    const stored = server.voices.list().find((voice) => voice.name === "Recorded");
    expect(stored?.seconds).toBeCloseTo(seconds, 1);
    expect(pageErrors).toEqual([]);
  });

  it("asks for the API key when the server has one and keeps it for the tab", async () => {
    thePage();
    const keyed = await startServer({
      models: { lm: tiny.lm, codec: tiny.codec, tokenizer: tiny.tokenizer, vocos: tiny.vocos },
      port: 0,
      voicesDir: tempDir("page-keyed-voices-"),
      apiKey: "open sesame",
    });
    const context = await (browser as Browser).newContext();
    try {
      await keyed.ready;
      const p = await context.newPage();
      await p.goto(keyed.url); // the page itself is public
      await p.waitForSelector("#error:not([hidden])", { timeout: 10_000 });
      expect(await p.textContent("#error")).toBe(
        "Missing or wrong API key (Authorization: Bearer <key>) — enter the server's API key under Connection.",
      );
      await p.fill("#api-key", "open sesame");
      await p.press("#api-key", "Tab"); // change
      await p.waitForSelector("#error", { state: "hidden" });
      const voices = p.waitForResponse((response) => response.url().endsWith("/v1/audio/voices"));
      await p.reload();
      expect((await voices).status()).toBe(200); // sent with the key kept in sessionStorage
      expect(await p.inputValue("#api-key")).toBe("open sesame");
      await p.waitForSelector('#health[data-state="ok"]', { timeout: 10_000 });
      expect(await p.isHidden("#error")).toBe(true);
    } finally {
      await context.close();
      await keyed.close();
    }
  });

  it("shows the API's error message", async () => {
    const p = thePage();
    await p.fill("#top-p", "2");
    await p.click("#speak");
    await p.waitForSelector("#error:not([hidden])", { timeout: 10_000 });
    expect(await p.textContent("#error")).toBe("Expected a number in (0, 1] for top_p, got 2");
    expect(await p.getAttribute("#result", "data-state")).toBe("error");
  });
});
