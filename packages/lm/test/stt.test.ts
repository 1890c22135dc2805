import { readFileSync } from "node:fs";
import { fixture } from "@tooling/config/fixtures";
import { describe, expect, it } from "vitest";
import { transcribe } from "../src/inference/stt.js";
import { assembleInput } from "../src/inputs/assemble.js";
import { LanguageModel } from "../src/language-model.js";
import { tinyModel } from "./tiny.js";

const speech = (frames: number) =>
  Array.from({ length: 8 }, (_, l) => Array.from({ length: frames }, (_, t) => (t * 37 + l * 101) % 1024));

describe("stt: speech to phonemes", () => {
  it("assembles resp · lang · rvq(0) · phn with per-segment positions, causal, over the text head", () => {
    const input = assembleInput({ mode: "stt", phonemes: [1, 40], lang: "de", rvqLevel: 0, response: speech(3) });
    // Level 0 from AR:0:0 (8484 + c), levels 1 … 6 from NAR:l:l+1 (9509 + 1024·l + c), level 7 unused.
    expect(input.rows[0]).toEqual([8484, ...[1, 2, 3, 4, 5, 6].map((l) => 9509 + 1024 * l + ((l * 101) % 1024))]);
    expect(input.rows.slice(3)).toEqual([[291], [266], [291], [256], [291], [1], [40]]);
    expect(input.positions).toEqual([0, 1, 2, 3, 0, 1, 0, 1, 0, 1]);
    expect(input).toMatchObject({
      causal: true,
      outputs: 1,
      head: { name: "stt", start: 0, end: 256 },
      outputStart: 8,
    });
  });

  it("bad input is refused with the field named", () => {
    const base = { mode: "stt" as const, phonemes: [1], lang: "en" as const, rvqLevel: 0, response: speech(2) };
    expect(() => assembleInput({ ...base, response: speech(2).slice(0, 4) })).toThrow(
      "Expected 7 level(s) of response codes for stt at level 0 for response, got 4",
    );
    expect(() => assembleInput({ ...base, phonemes: [40] })).toThrow(
      "Expected the phoneme ids generated so far, starting with <bos> (1) for phonemes, got an array of length 1",
    );
    expect(() => assembleInput({ ...base, response: [[], [], [], [], [], [], []] })).toThrow(
      "Expected at least one frame of speech for response, got 0",
    );
    expect(() => assembleInput({ ...base, lang: "xx" as "en" })).toThrow('for lang, got "xx"');
    expect(() => assembleInput(base, undefined, { cfgNull: true })).toThrow(
      "The stt mode has no classifier-free guidance input",
    );
  });

  it("the AR loop with the KV cache equals the uncached one; it stops at </eos> or the cap; seeded sampling repeats", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    const codes = speech(20);
    const cached = await transcribe(model, { codes, lang: "en", maxTokens: 12 });
    const uncached = await transcribe(model, { codes, lang: "en", maxTokens: 12, cache: false });
    expect(cached.tokens).toEqual(uncached.tokens);
    expect(cached.tokens[0]).toBe(1);
    expect(cached.tokens.length).toBeLessThanOrEqual(12);
    if (cached.stopped) expect(cached.tokens.at(-1)).toBe(2);
    else expect(cached.tokens).toHaveLength(12);
    const sampled = { codes, lang: "en" as const, maxTokens: 10, sampling: { arTemperature: 1 }, seed: 5 };
    expect((await transcribe(model, sampled)).tokens).toEqual((await transcribe(model, sampled)).tokens);
    expect(model.contextCount).toBe(0);
    await expect(transcribe(model, { codes: codes.slice(0, 3), lang: "en" })).rejects.toThrow(
      "Expected speech codes of at least 7 levels (levels × frames) for codes, got 3",
    );
  });
});

const dir = fixture("lm");
describe.skipIf(!dir.present)(`stt vs the independent float64 reference ${dir.reason}`, () => {
  it("stt_public_1: the last row over the text head within 5e-3, the same argmax", async () => {
    const spec = JSON.parse(readFileSync(`${dir.path}/stt_public_1.json`, "utf8"));
    await using model = await LanguageModel.load(`${dir.path}/valle_tiny_random_f16.gguf`);
    await using context = await model.createContext({ contextSize: 256 });
    const logits = await context.forward([model.assemble(spec)]);
    const bytes = readFileSync(`${dir.path}/stt_public_1.logits.npy`);
    const data = bytes.subarray(10 + bytes.readUInt16LE(8));
    const expected = new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    expect(logits.length).toBe(256);
    let maxAbs = 0;
    for (let i = 0; i < 256; i++) maxAbs = Math.max(maxAbs, Math.abs((logits[i] as number) - (expected[i] as number)));
    expect(maxAbs).toBeLessThanOrEqual(5e-3);
    const argmax = (row: Float32Array) => row.indexOf(Math.max(...row));
    expect(argmax(logits)).toBe(argmax(expected));
  });
});
