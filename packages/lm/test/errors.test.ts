import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { generate } from "../src/inference/generate.js";
import { LanguageModel } from "../src/language-model.js";
import { writeGguf } from "../src/model/gguf-writer.js";
import { type GgufParts, randomModel } from "../src/model/random-model.js";
import { sampleSpec, tinyModel } from "./tiny.js";

const dir = tempDir("vall-e-lm-errors-");
const shape = { width: 32, layers: 1, heads: 4, ffn: 64, seed: 3 };

async function variant(name: string, edit: (parts: GgufParts) => void): Promise<string> {
  const parts = await randomModel(shape);
  edit(parts);
  const path = join(dir, name);
  writeGguf(path, parts.metadata, parts.tensors);
  return path;
}

describe("loading: bad files are clear errors, never a crash", () => {
  it("not a GGUF, a missing file", async () => {
    const path = join(dir, "text.gguf");
    writeFileSync(path, "this is not a model");
    await expect(LanguageModel.load(path)).rejects.toMatchObject({
      code: "ERR_MODEL_FORMAT",
      message: `${path} is not a readable GGUF file (not a valid gguf file: not starting with GGUF magic number)`,
    });
    await expect(LanguageModel.load(join(dir, "none.gguf"))).rejects.toMatchObject({
      code: "ERR_FILE_NOT_FOUND",
      message: `Model file not found: ${join(dir, "none.gguf")}`,
    });
  });

  it("a truncated file", async () => {
    const good = await variant("good.gguf", () => {});
    const bytes = readFileSync(good);
    const path = join(dir, "truncated.gguf");
    writeFileSync(path, bytes.subarray(0, bytes.length - 4096));
    await expect(LanguageModel.load(path)).rejects.toThrow(
      new RegExp(
        `^${path} is truncated: tensor 'output.weight' needs bytes \\d+ … \\d+, the file has ${bytes.length - 4096}$`,
      ),
    );
  });

  it("the wrong architecture, a vocabulary without the VALL-E names", async () => {
    const gpt = await variant("gpt.gguf", (parts) => {
      parts.metadata["general.architecture"] = "gpt2";
    });
    await expect(LanguageModel.load(gpt)).rejects.toThrow(
      `${gpt}: architecture is "gpt2", expected "llama" (a VALL-E export)`,
    );
    const vocab = await variant("vocab.gguf", (parts) => {
      parts.metadata["tokenizer.ggml.tokens"] = Array.from({ length: 17702 }, (_, i) => `t${i}`);
    });
    await expect(LanguageModel.load(vocab)).rejects.toThrow(
      `${vocab}: the vocabulary has no rvqLevel tokens — not a VALL-E export (expected names such as <|RVQ:0|>, <|P|0|17|>, <|R|AR|0:0|1024|>)`,
    );
  });

  it("a missing tensor, a misshapen tensor, an unexpected tensor", async () => {
    const missing = await variant("missing.gguf", (parts) => {
      parts.tensors = parts.tensors.filter((t) => t.name !== "blk.0.ffn_up.weight");
    });
    await expect(LanguageModel.load(missing)).rejects.toThrow(`${missing}: tensor 'blk.0.ffn_up.weight' is missing`);
    const misshapen = await variant("misshapen.gguf", (parts) => {
      const tensor = parts.tensors.find((t) => t.name === "blk.0.ffn_down.weight");
      if (tensor) tensor.ne = [32, 64];
    });
    await expect(LanguageModel.load(misshapen)).rejects.toThrow(
      `${misshapen}: tensor 'blk.0.ffn_down.weight' has shape [32, 64], expected [64, 32]`,
    );
    const extra = await variant("extra.gguf", (parts) => {
      parts.tensors.push({ name: "something.else", ne: [4], type: 0, data: new Uint8Array(16) });
    });
    await expect(LanguageModel.load(extra)).rejects.toThrow(`${extra}: unexpected tensor 'something.else'`);
  });

  it("per-head biases of the wrong length or type; an unknown vall_e.* tensor; a bad profile value", async () => {
    const short = await variant("bias-short.gguf", (parts) => {
      parts.tensors.push({ name: "vall_e.output_bias", ne: [1025], type: 0, data: new Uint8Array(4100) });
    });
    await expect(LanguageModel.load(short)).rejects.toThrow(
      `${short}: tensor 'vall_e.output_bias' has shape [1025], expected [17702]`,
    );
    const half = await variant("bias-f16.gguf", (parts) => {
      parts.tensors.push({ name: "vall_e.output_bias", ne: [17702], type: 1, data: new Uint8Array(2 * 17702) });
    });
    await expect(LanguageModel.load(half)).rejects.toThrow(
      `${half}: tensor 'vall_e.output_bias' has type f16, which this engine does not run (norm weights and biases must be F32)`,
    );
    const unknown = await variant("bias-name.gguf", (parts) => {
      parts.tensors.push({ name: "vall_e.bias.AR:0:0", ne: [1025], type: 0, data: new Uint8Array(4100) });
    });
    await expect(LanguageModel.load(unknown)).rejects.toThrow(`${unknown}: unexpected tensor 'vall_e.bias.AR:0:0'`);
    const declared = await variant("bias-key.gguf", (parts) => {
      parts.metadata["vall_e.head_biases"] = "sometimes";
    });
    await expect(LanguageModel.load(declared)).rejects.toThrow(
      'Expected one of "apply", "ignore" for vall_e.head_biases, got "sometimes"',
    );
  });
});

describe("evaluation: bad input is a clear error", () => {
  it("codes, phonemes and levels out of range; unknown modes and languages", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    const spec = sampleSpec("nar", 1);
    expect(() =>
      model.assemble({ ...spec, response: [[5, 1024, 3, 1, 2, 3], ...(spec.response ?? []).slice(1)] }),
    ).toThrow("Expected codes from 0 to 1023 for response[0][1], got 1024");
    expect(() =>
      model.assemble({
        ...spec,
        prompt: [[-1, ...(spec.prompt?.[0] ?? []).slice(1)], ...(spec.prompt ?? []).slice(1)],
      }),
    ).toThrow("Expected codes from 0 to 1023 for prompt[0][0], got -1");
    expect(() => model.assemble({ ...spec, phonemes: [1, 300, 2] })).toThrow(
      "Expected phoneme ids from 0 to 255 for phonemes[1], got 300",
    );
    expect(() => model.assemble({ ...spec, rvqLevel: 8 })).toThrow(
      "Expected an RVQ level from 1 to 7 for nar for rvqLevel, got 8",
    );
    expect(() => model.assemble({ ...spec, mode: "tts" as "ar" })).toThrow(
      'Expected one of "ar", "len", "nar", "nar-len", "stt" for mode, got "tts"',
    );
    expect(() => model.assemble({ ...spec, lang: "es" as "en" })).toThrow(
      'Expected one of "en", "ja", "de", "fr", "zh", "ko" for lang, got "es"',
    );
    expect(() => model.assemble({ ...spec, response: [[1, 2]] })).toThrow(
      "Expected 3 level(s) of response codes for nar at level 3 for response, got 1",
    );
  });

  it("a sequence over the context size, a step without a prefill, use after dispose", async () => {
    const model = await LanguageModel.load(await tinyModel("F32"));
    const context = await model.createContext({ contextSize: 16 });
    await expect(context.evaluate(sampleSpec("nar-len", 1))).rejects.toMatchObject({
      code: "ERR_CONTEXT_OVERFLOW",
      message: "The sequences hold 30 tokens, more than the context size 16",
    });
    await expect(context.step([8484], 0)).rejects.toThrow("step() needs a prefill() first");
    await model.dispose();
    await expect(context.evaluate(sampleSpec("ar", 1))).rejects.toThrow("This LmContext has been disposed");
    await expect(model.createContext()).rejects.toThrow("This LmModel has been disposed");
  });

  it("an input longer than the model's positions is refused before any context is sized for it", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    expect(model.info.nCtxTrain).toBe(22_500);
    const phonemes = [1, ...new Array<number>(22_400).fill(5), 2];
    const prompt = Array.from({ length: 8 }, () => new Array<number>(99).fill(7));
    await expect(generate(model, { phonemes, prompt, lang: "en", seed: 1 })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
      message:
        "The input takes 22501 positions (22402 phoneme tokens, 99 prompt frames): more than the 22500 the model " +
        "was trained for (llama.context_length) — use shorter sentences or a shorter prompt",
    });
  });
});
