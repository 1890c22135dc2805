/**
 * Outputs that are not regular files: a FIFO given as `-o` is written into as a stream (a reader at the other end
 * gets the WAV), never replaced by a regular file; a folder is refused before any work. (A device node behaves as a
 * FIFO does — written into, never renamed over — but the test does not touch the machine's /dev.)
 */
import { spawnSync } from "node:child_process";
import { closeSync, createReadStream, createWriteStream, existsSync, openSync, statSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { createCodesArtifact, writeCodes } from "@vall-e/codec";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_OK, EXIT_USAGE } from "../src/exit-codes.js";
import { offlineEnv, vallE } from "./processes.js";

const dir = tempDir("cli-special-");
const env = offlineEnv(dir);
const codes = join(dir, "codes.npy");

beforeAll(async () => {
  const values = Int16Array.from({ length: 8 * 20 }, (_, i) => (i * 131) % 1024);
  await writeCodes(codes, createCodesArtifact(values, 8));
});

describe("-o that is not a regular file", () => {
  it("a FIFO is written into as a stream and stays a FIFO", async () => {
    const fifo = join(dir, "out.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const received: Buffer[] = [];
    const reading = new Promise<void>((resolve, reject) => {
      createReadStream(fifo)
        .on("data", (chunk) => received.push(chunk as Buffer))
        .on("end", resolve)
        .on("error", reject);
    });
    const run = await vallE(["decode", codes, "-o", fifo, "--vocos", "tiny"], env);
    // A run that failed before opening the FIFO would leave the reader waiting: open it once to end the read.
    if (run.code !== EXIT_OK) closeSync(openSync(fifo, "w"));
    await reading;
    expect(run.code, run.stderr).toBe(EXIT_OK);
    expect(statSync(fifo).isFIFO()).toBe(true);
    const wav = Buffer.concat(received);
    expect(wav.subarray(0, 4).toString()).toBe("RIFF");
    expect(wav.length).toBe(44 + 2 * 20 * 320);
  });

  it("a folder is refused before any model is loaded, and left as it is", async () => {
    const folder = join(dir, "a-folder");
    const run = await vallE(["decode", codes, "-o", dir, "--vocos", "tiny"], env);
    expect(run).toMatchObject({ code: EXIT_USAGE, stderr: `error: Cannot write ${dir} (-o): it is a folder\n` });
    expect(existsSync(folder)).toBe(false);
    expect(statSync(dir).isDirectory()).toBe(true);
  });

  it("inputs past their documented limits are refused before any work, naming the limit and the flag that raises it", async () => {
    const long = join(dir, "long.npy");
    await writeCodes(long, createCodesArtifact(new Int16Array(8 * 270_001), 8));
    const decode = await vallE(["decode", long, "-o", join(dir, "long.wav"), "--vocos", "tiny"], env);
    expect(decode.code).toBe(1);
    expect(decode.stderr).toContain(
      `${long} holds 270001 frames (60.0 min): more than the 270000 (60.0 min) allowed (--max-frames raises it)`,
    );
    const allowed = await vallE(
      ["decode", codes, "-o", join(dir, "short.wav"), "--vocos", "tiny", "--max-frames", "19"],
      env,
    );
    expect(allowed.stderr).toContain("holds 20 frames");
    const device = await vallE(["tts", "--text-file", "/dev/zero", "--model", "tiny", "-o", join(dir, "t.wav")], env);
    expect(device).toMatchObject({
      code: EXIT_USAGE,
      stderr: "error: Text file /dev/zero is not a regular file or a pipe (it is a device)\n",
    });
    // A pipe is read as its writer sends it (`--text-file <(…)`), and an endless one is cut at the limit.
    const pipe = join(dir, "text.fifo");
    expect(spawnSync("mkfifo", [pipe]).status).toBe(0);
    const writer = createWriteStream(pipe).on("error", () => {}); // EPIPE once the reader has had enough
    const feed = () => writer.write("a".repeat(65_536), () => setImmediate(() => writer.writable && feed()));
    feed();
    const endless = await vallE(["tts", "--text-file", pipe, "--model", "tiny", "-o", join(dir, "t.wav")], env);
    writer.destroy();
    expect(endless).toMatchObject({
      code: EXIT_USAGE,
      stderr: `error: Text file ${pipe} holds more than 100000 characters of text (--max-text raises the limit)\n`,
    });
    const big = await vallE(
      ["tts", "a".repeat(5000), "--max-text", "4999", "--model", "tiny", "-o", join(dir, "t.wav")],
      env,
    );
    expect(big.stderr).toBe(
      "error: The text argument holds 5000 characters, more than 4999 (--max-text raises the limit)\n",
    );
    expect(existsSync(join(dir, "t.wav"))).toBe(false);
    expect(existsSync(join(dir, "long.wav"))).toBe(false);
  });
});
