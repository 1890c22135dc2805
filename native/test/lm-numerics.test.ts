/**
 * A model whose weights hold NaN or Inf (a damaged or badly converted file) is stopped at its first evaluation with
 * a typed error naming the file — never sampled into garbage with a zero exit.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { LmModel } from "../lib/index.js";
import { writeTinyLm } from "./tiny-lm.js";

const sequence = {
  rowOffsets: Int32Array.from([0, 1, 2, 3]),
  rowIds: Int32Array.from([5, 17, 200]),
  positions: Int32Array.from([0, 1, 2]),
  causal: true,
  outputs: 1,
};

describe("non-finite weights", () => {
  it.each([
    ["NaN", 0x7fc00000],
    ["Inf", 0x7f800000],
  ])("%s in the last tensor: forward and append refuse, naming the file", async (_, bits) => {
    const dir = tempDir("lm-numerics-");
    const path = writeTinyLm(dir);
    await using good = await LmModel.load(path);
    await using fine = await good.createContext({ contextSize: 16, threads: 1 });
    const logits = await fine.forward([sequence], { start: 0, end: good.info.nVocab });
    expect(logits.every(Number.isFinite)).toBe(true);

    const bytes = readFileSync(path);
    bytes.writeUInt32LE(bits, bytes.length - 4); // the last f32 of the file's last tensor
    const damaged = join(dir, "damaged.gguf");
    writeFileSync(damaged, bytes);
    await using model = await LmModel.load(damaged);
    await using context = await model.createContext({ contextSize: 16, threads: 1 });
    const head = { start: 0, end: model.info.nVocab };
    const expected = {
      code: "ERR_MODEL_NUMERICS",
      message: expect.stringContaining(`${damaged} gave a non-finite logit`),
    };
    await expect(context.forward([sequence], head)).rejects.toMatchObject(expected);
    await expect(context.append(sequence, head)).rejects.toMatchObject(expected);
  });
});
