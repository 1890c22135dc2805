/**
 * `vall-e batch` on one machine, on the tiny bundle: a manifest with bad lines (not JSON, a missing voice file, an
 * unknown voice id, a bad option, a bad or repeated id, no text) and good ones — every bad line reported with its
 * number in results.jsonl and on stderr, the rest done; a second run skips what is done; what is done again is
 * byte-identical.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { encodeWav } from "@vall-e/codec";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "../src/exit-codes.js";
import { vallE } from "./processes.js";

const dir = tempDir("cli-batch-");
const env = { NO_COLOR: "1", XDG_CACHE_HOME: join(dir, "cache"), HF_HUB_OFFLINE: "1", VALL_E_MODEL_DIR: "" };
const voices = join(dir, "voices");
const out = join(dir, "out");
const manifest = join(dir, "manifest.jsonl");
const small = '"maxSteps":3,"maxDuration":1,"language":"en","promptSeconds":0.5';
const engineFlags = ["--model", "tiny", "-t", "1", "--voices", voices];

const LINES = [
  `{"id":"a","text":"Hello there.","voice":"voice.wav",${small}}`,
  '{"id": "b", "text": ',
  `{"id":"c","text":"Hi.","voice":"missing.wav",${small}}`,
  `{"id":"d","text":"Hi.","voice":"voice_000000000000000000000000",${small}}`,
  `{"id":"e","text":"In a voice of the library.","voice":"narrator","seed":7,${small}}`,
  "",
  '{"id":"f","text":"Bye now.","max_duration":1,"max_steps":3,"ar_temperature":0.5,"language":"en","sentence_batch":2}',
  '{"id":"g","text":"x","maxDuration":-1}',
  '{"id":"../x","text":"x"}',
  '{"id":"a","text":"again"}',
  '{"id":"h"}',
];

const results = () =>
  readFileSync(join(out, "results.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe("vall-e batch on one machine (tiny bundle)", () => {
  let first: Awaited<ReturnType<typeof vallE>>;
  const firstBytes: Record<string, Buffer> = {};

  beforeAll(async () => {
    writeFileSync(
      join(dir, "voice.wav"),
      encodeWav(
        Float32Array.from({ length: 12000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 180 * i) / 12000)),
        12000,
      ),
    );
    writeFileSync(manifest, `${LINES.join("\n")}\n`);
    const added = await vallE(
      ["voices", "add", "narrator", join(dir, "voice.wav"), "--codec", "tiny", "--voices", voices],
      env,
    );
    expect(added.code, added.stderr).toBe(EXIT_OK);
    first = await vallE(["batch", manifest, "--out", out, ...engineFlags], env);
    for (const id of ["a", "e", "f"]) firstBytes[id] = readFileSync(join(out, id, "output.wav"));
  }, 120_000);

  it("reports every bad line with its number (results.jsonl and stderr), does the rest, exits 1", () => {
    expect(first.code, first.stderr).toBe(EXIT_FAILURE);
    const lines = results();
    expect(lines.map((r) => [r.line, r.id, r.status, r.code])).toEqual([
      [1, "a", "ok", undefined],
      [2, undefined, "error", "ERR_MANIFEST_LINE"],
      [3, "c", "error", "ERR_FILE_NOT_FOUND"],
      [4, "d", "error", "ERR_VOICE_NOT_FOUND"],
      [5, "e", "ok", undefined],
      [7, "f", "ok", undefined],
      [8, "g", "error", "ERR_INVALID_ARGUMENT"],
      [9, undefined, "error", "ERR_MANIFEST_ID"],
      [10, "a", "error", "ERR_MANIFEST_ID"],
      [11, "h", "error", "ERR_MANIFEST_FIELD"],
    ]);
    expect(lines[2]?.message).toBe(`Voice file not found: ${join(dir, "missing.wav")}`);
    expect(lines[3]?.message).toMatch(/^No voice "voice_000000000000000000000000" in the voice library /);
    expect(lines[6]?.message).toBe("Expected seconds in (0, 600] for maxDuration, got -1");
    expect(lines[7]?.message).toMatch(/for id, got "\.\.\/x"$/);
    expect(lines[8]?.message).toBe('The id "a" is also on line 1: ids must be unique');
    expect(lines[9]?.message).toBe('The line has no "text"');
    for (const line of [2, 3, 4, 8, 9, 10, 11]) expect(first.stderr).toMatch(new RegExp(`error: line ${line}\\b`));
    // The good ones: their seed (given, or derived from the id), their audio, where it is.
    expect(lines[0]).toMatchObject({ seed: 2542144040, output: join(out, "a", "output.wav") });
    expect(lines[4]).toMatchObject({ seed: 7, seconds: expect.any(Number) });
    expect(readdirSync(out).sort()).toEqual([".partial", "a", "e", "f", "results.jsonl"]);
    expect(readdirSync(join(out, ".partial"))).toEqual([]);
    for (const id of ["a", "e", "f"]) {
      for (const name of ["output.wav", "run.json", "batch.json"]) expect(existsSync(join(out, id, name))).toBe(true);
    }
    const run = JSON.parse(readFileSync(join(out, "e", "run.json"), "utf8"));
    expect(run.options).toMatchObject({ seed: 7, maxDuration: 1, sampling: { maxSteps: 3 }, language: "en" });
    // A library voice is not a file: run.json names its prompt codes, where they are now.
    expect(run.inputs.promptCodes).toBe(join(out, "e", "prompt.codes.npy"));
    expect(existsSync(run.inputs.promptCodes)).toBe(true);
    expect(JSON.parse(readFileSync(join(out, "a", "run.json"), "utf8")).inputs.reference).toEqual([
      join(dir, "voice.wav"),
    ]);
  });

  it("a second run skips everything done (nothing written, no engine loaded)", async () => {
    const mtimes = ["a", "e", "f"].map((id) => statSync(join(out, id, "output.wav")).mtimeMs);
    const second = await vallE(["batch", manifest, "--out", out, ...engineFlags], env);
    expect(second.code, second.stderr).toBe(EXIT_FAILURE);
    expect(["a", "e", "f"].map((id) => statSync(join(out, id, "output.wav")).mtimeMs)).toEqual(mtimes);
    expect(second.stderr).not.toContain("using the tiny bundle");
    expect(second.stderr).toContain("3 of 10 line(s) done (3 already before), 7 failed");
    expect(
      results()
        .filter((r) => r.resumed === true)
        .map((r) => r.id),
    ).toEqual(["a", "e", "f"]);
  });

  it("what is done again (removed, damaged, or its line changed) is byte-identical", async () => {
    rmSync(join(out, "a"), { recursive: true });
    writeFileSync(join(out, "e", "output.wav"), firstBytes.e?.subarray(0, 60) ?? "");
    const third = await vallE(["batch", manifest, "--out", out, ...engineFlags], env);
    expect(third.code, third.stderr).toBe(EXIT_FAILURE);
    expect(third.stderr).toContain("3 of 10 line(s) done (1 already before), 7 failed");
    for (const id of ["a", "e", "f"])
      expect(readFileSync(join(out, id, "output.wav")).equals(firstBytes[id] as Buffer), id).toBe(true);
    // A fresh folder, only the good lines: the same bytes again, and exit 0.
    const good = join(dir, "good.jsonl");
    writeFileSync(good, `${[LINES[0], LINES[4], LINES[6]].join("\n")}\n`);
    const fresh = join(dir, "fresh");
    const clean = await vallE(["batch", good, "--out", fresh, ...engineFlags], env);
    expect(clean.code, clean.stderr).toBe(EXIT_OK);
    for (const id of ["a", "e", "f"])
      expect(readFileSync(join(fresh, id, "output.wav")).equals(firstBytes[id] as Buffer), id).toBe(true);
  }, 120_000);

  it("usage errors exit 2 before anything is read", async () => {
    const cases: [string[], string][] = [
      [["batch", manifest], "Give the output folder: --out DIR"],
      [["batch", "--out", out], "Give the manifest: vall-e batch MANIFEST.jsonl --out DIR"],
      [["batch", manifest, "--out", out, "--wait"], "--wait is for --queue"],
      [["batch", "--status"], "--status shows a queue: give --queue redis://HOST:PORT/N"],
      [
        ["batch", manifest, "--queue", "http://x"],
        'Expected a Redis URL redis://HOST:PORT/N for --queue, got "http://x"',
      ],
      [
        ["batch", manifest, "--queue", "redis://127.0.0.1:1/0", "--model", "tiny"],
        "--model: with --queue the workers speak",
      ],
      [
        ["batch", manifest, "--queue", "redis://127.0.0.1:1/0", "--wait"],
        "--wait writes DIR/results.jsonl: give --out DIR",
      ],
      [["batch", join(dir, "none.jsonl"), "--out", out], `Manifest not found: ${join(dir, "none.jsonl")}`],
    ];
    for (const [args, message] of cases) {
      const result = await vallE(args, env, 30_000);
      expect([args.join(" "), result.code]).toEqual([args.join(" "), EXIT_USAGE]);
      expect(result.stderr).toContain(message);
    }
    // Redis that is not there: a clear error, not a hang.
    const unreachable = await vallE(["batch", manifest, "--queue", "redis://127.0.0.1:1/0"], env, 30_000);
    expect(unreachable.code).toBe(EXIT_FAILURE);
    expect(unreachable.stderr).toContain("Cannot reach Redis at redis://127.0.0.1:1/0");
  }, 60_000);
});
