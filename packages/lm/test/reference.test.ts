import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { GGML_TYPES, systemInfo } from "@vall-e/native";
import { describe, expect, it } from "vitest";
import { MODES, type ModelProfile } from "../src/inputs/assemble.js";
import { LanguageModel } from "../src/language-model.js";
import { loadReferenceModel, referenceForward } from "./reference.js";
import { sampleSpec, tinyModel } from "./tiny.js";

function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs((actual[i] as number) - (expected[i] as number)));
    norm = Math.max(norm, Math.abs(expected[i] as number));
  }
  return diff / norm;
}

describe("native decoder vs a TypeScript float64 forward pass (tiny F32 model)", () => {
  const profiles: Partial<ModelProfile>[] = [
    {},
    { activation: "silu" },
    { positions: "unified" },
    { narAttention: "causal" },
  ];
  for (const profile of profiles) {
    it(`every mode, profile ${JSON.stringify(profile)}: relative error ≤ 1e-4`, async () => {
      const path = await tinyModel("F32");
      const reference = await loadReferenceModel(path);
      await using model = await LanguageModel.load(path, { profile });
      await using context = await model.createContext({ contextSize: 256 });
      for (const mode of MODES) {
        const input = model.assemble(sampleSpec(mode));
        const expected = referenceForward(reference, input, model.profile.activation);
        expect(relativeError(await context.forward([input]), expected), mode).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  it("the debug dump holds every named intermediate, each equal to the reference's (relative ≤ 1e-4)", async () => {
    const path = await tinyModel("F32");
    const reference = await loadReferenceModel(path);
    await using model = await LanguageModel.load(path);
    await using context = await model.createContext({ contextSize: 256 });
    const input = model.assemble(sampleSpec("nar", 4));
    expect(await context.dumped()).toEqual([]);
    await context.setDebugDump(true);
    const logits = await context.forward([input]);
    const dumped = await context.dumped();
    const layerNames = (l: number) => [`l${l}.q`, `l${l}.k`, `l${l}.attn_out`, `l${l}.out`];
    expect(dumped.map((t) => t.name)).toEqual(["inp_embd", ...layerNames(0), ...layerNames(1), "out_norm", "logits"]);
    const trace = new Map<string, Float64Array[]>();
    referenceForward(reference, input, "gelu", trace);
    for (const [name, rows] of trace) {
      const t = dumped.find((d) => d.name === name);
      expect(t, name).toBeDefined();
      expect([t?.rows, t?.columns], name).toEqual([rows.length, rows[0]?.length]);
      const flat = Float64Array.from(rows.flatMap((row) => [...row]));
      expect(relativeError(t?.data ?? [], flat), name).toBeLessThanOrEqual(1e-4);
    }
    const last = dumped.at(-1);
    expect([last?.rows, last?.columns]).toEqual([input.outputs, input.head.end - input.head.start]);
    expect(last?.data).toEqual(logits);
    await context.setDebugDump(false);
    expect(await context.dumped()).toEqual([]);
  });

  it("adds the file's per-head output biases unless the profile ignores them", async () => {
    const path = await tinyModel("F32", { headBiases: true });
    const reference = await loadReferenceModel(path);
    await using model = await LanguageModel.load(path);
    await using plain = await LanguageModel.load(path, { profile: { headBiases: "ignore" } });
    expect([model.info.hasOutputBias, model.headBiases, plain.headBiases]).toEqual([true, true, false]);
    await using context = await model.createContext({ contextSize: 256 });
    await using plainContext = await plain.createContext({ contextSize: 256 });
    for (const mode of MODES) {
      const input = model.assemble(sampleSpec(mode, 5));
      const withBias = await context.forward([input]);
      const without = await plainContext.forward([input]);
      expect(relativeError(withBias, referenceForward(reference, input, "gelu")), mode).toBeLessThanOrEqual(1e-4);
      expect(relativeError(without, referenceForward(reference, input, "gelu", undefined, false))).toBeLessThan(1e-4);
      expect(relativeError(withBias, without), mode).toBeGreaterThan(1e-2);
    }
  });

  it("evaluates several sequences in one graph exactly as one by one (the CFG pair)", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    await using context = await model.createContext({ contextSize: 256 });
    const spec = sampleSpec("nar-len", 3);
    const conditional = model.assemble(spec);
    const unconditional = model.assemble(spec, { cfgNull: true });
    expect(unconditional.rows.slice(0, 2)).toEqual([[1], [2]]); // text [1, 2], then no prompt segment
    const both = await context.forward([conditional, unconditional]);
    const first = await context.forward([conditional]);
    const second = await context.forward([unconditional]);
    expect(relativeError(both.subarray(0, first.length), first)).toBeLessThanOrEqual(1e-5);
    expect(relativeError(both.subarray(first.length), second)).toBeLessThanOrEqual(1e-5);
  });
});

describe("the KV cache", () => {
  it("AR: prefill, then one token per step, equals evaluating the whole sequence each time (f32 cache)", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    await using context = await model.createContext({ contextSize: 256, cacheType: "f32" });
    const spec = sampleSpec("ar", 5, 0);
    const steps = [17, 1024, 3, 900, 5];
    let logits = await context.prefill(model.assemble(spec));
    for (let i = 0; i <= steps.length; i++) {
      const response = steps.slice(0, i);
      const expected = await context.forward([model.assemble({ ...spec, response: [response] })]);
      expect(relativeError(logits, expected), `step ${i}`).toBeLessThanOrEqual(1e-5);
      if (i < steps.length) logits = await context.step([model.layout.ar.start + (steps[i] as number)], i);
    }
    expect(context.cacheLength).toBe(model.assemble(spec).rows.length + steps.length);
  });

  it("len: the same with digits; the default f16 cache stays within 1e-3", async () => {
    await using model = await LanguageModel.load(await tinyModel("F32"));
    await using context = await model.createContext({ contextSize: 256, cacheType: "f32" });
    await using half = await model.createContext({ contextSize: 256 });
    const spec = { ...sampleSpec("len", 2), len: [0] };
    let logits = await context.prefill(model.assemble(spec));
    await half.prefill(model.assemble(spec));
    const digits = [0, 3, 7];
    for (let i = 1; i < digits.length; i++) {
      logits = await context.step([model.layout.len.start + (digits[i] as number)], i);
      const approximate = await half.step([model.layout.len.start + (digits[i] as number)], i);
      const expected = await context.forward([model.assemble({ ...spec, len: digits.slice(0, i + 1) })]);
      expect(relativeError(logits, expected)).toBeLessThanOrEqual(1e-5);
      expect(relativeError(approximate, expected)).toBeLessThanOrEqual(1e-3);
    }
  });
});

describe("quantized weights", () => {
  // Relative max-abs error of the logits against the F16 file, on random Gaussian weights (the hardest case for
  // quantization): measured F32 7e-4, BF16 ≤ 5.2e-3, Q8_0 ≤ 2.0e-2, Q4_K ≤ 1.8e-1, Q3_K ≤ 3.7e-1, Q2_K ≤ 7.8e-1
  // (low-bit weights also flip argmaxes; on random weights Q3_K/Q2_K only show that the file loads and runs sanely).
  const shape = { width: 256, heads: 4, kvHeads: 4, ffn: 512 };
  for (const [type, tolerance] of [
    ["F32", 2e-3],
    ["BF16", 1e-2],
    ["Q8_0", 3e-2],
    ["Q4_K", 2.5e-1],
    ["Q3_K", 5e-1],
    ["Q2_K", 9e-1],
  ] as const) {
    it(`${type} logits stay within ${tolerance} (relative) of F16`, async () => {
      await using half = await LanguageModel.load(await tinyModel("F16", shape));
      await using other = await LanguageModel.load(await tinyModel(type, shape));
      await using a = await half.createContext({ contextSize: 256 });
      await using b = await other.createContext({ contextSize: 256 });
      for (const mode of MODES) {
        const spec = sampleSpec(mode, 7);
        expect(relativeError(await b.evaluate(spec), await a.evaluate(spec)), mode).toBeLessThanOrEqual(tolerance);
      }
    });
  }
  // ggml's CPU backend re-lays-out some quantized matrices at load for its tiled kernels (CPU_REPACK: Q4_K and Q4_0
  // with AVX2, Q2_K with AVX-512; Q8_0 on ARM). The repacked kernels compute the same quantized products in another
  // order: measured against the weights left in the file's layout (VALL_E_NO_REPACK=1), Q4_K differs by 0 to 3.5e-7
  // in four modes and 9.3e-3 in one (nar-len), Q2_K by up to 1.5e-3 — a fraction of the quantization's own error
  // against F16 (1.3e-1 to 1.8e-1), which the repacked weights do not increase.
  const x86 = process.arch === "x64";
  for (const type of ["Q4_K", "Q2_K", "Q8_0"] as const) {
    it(`${type}: repacked weights at load (where the CPU backend has a layout for them) give the same logits`, async () => {
      const path = await tinyModel(type, shape);
      process.env.VALL_E_NO_REPACK = "1";
      let plain: LanguageModel;
      try {
        plain = await LanguageModel.load(path);
      } finally {
        delete process.env.VALL_E_NO_REPACK;
      }
      await using unpacked = plain;
      await using repacked = await LanguageModel.load(path);
      await using half = await LanguageModel.load(await tinyModel("F16", shape));
      expect(unpacked.info.repackedBytes).toBe(0);
      if (x86) {
        // Which types have a repacked layout on x86 (ggml's repack.cpp): Q4_K with AVX2, Q2_K with AVX-512, Q8_0 none.
        const needs = { Q4_K: "AVX2", Q2_K: "AVX512", Q8_0: undefined }[type];
        const repacks = needs !== undefined && systemInfo().cpuFeatures.includes(needs);
        expect(repacked.info.repackedBytes > 0, `${type} repacked`).toBe(repacks);
      }
      await using reference = await half.createContext({ contextSize: 256 });
      await using a = await unpacked.createContext({ contextSize: 256 });
      await using b = await repacked.createContext({ contextSize: 256 });
      for (const mode of MODES) {
        const spec = sampleSpec(mode, 7);
        const [f16, fileLayout, relaid] = [
          await reference.evaluate(spec),
          await a.evaluate(spec),
          await b.evaluate(spec),
        ];
        expect(relativeError(relaid, fileLayout), mode).toBeLessThanOrEqual(2e-2);
        expect(relativeError(relaid, f16), mode).toBeLessThanOrEqual(relativeError(fileLayout, f16) * 1.05 + 1e-3);
      }
      // An AR step (one row through the repacked matrix-vector kernels) too.
      const spec = sampleSpec("ar", 3, 0);
      await a.prefill(repacked.assemble(spec));
      await b.prefill(repacked.assemble(spec));
      const row = repacked.layout.ar.start + 17;
      expect(relativeError(await b.step([row], 0), await a.step([row], 0))).toBeLessThanOrEqual(2e-2);
    });
  }
});

describe("the published quant mixes, made by llama.cpp's llama-quantize as the published files were", () => {
  // The test-only build of llama-quantize from the addon's pinned tree (native/build-oracle, turbo builds it first).
  const quantizer = fileURLToPath(new URL("../../../native/build-oracle/bin/llama-quantize", import.meta.url));
  const shape = { width: 256, heads: 4, kvHeads: 4, ffn: 512 };
  // Relative max-abs error of every mode's logits against the F16 file it was made from (random Gaussian weights,
  // the hardest case for quantization), measured over the five modes and the step: BF16 ≤ 5.8e-3, Q8_0 ≤ 2.0e-2,
  // Q4_K_M ≤ 1.8e-1, Q3_K_M ≤ 3.6e-1, Q2_K ≤ 6.7e-1 (Q4_K_M, Q3_K_M: Q6_K/Q5_K/Q4_K mixes, the embedding and output
  // matrices quantized too, as in the published files).
  for (const [ftype, tolerance, weightType] of [
    ["BF16", 1e-2, "BF16"],
    ["Q8_0", 3e-2, "Q8_0"],
    ["Q4_K_M", 2.5e-1, "Q4_K"],
    ["Q3_K_M", 5e-1, "Q3_K"],
    ["Q2_K", 9e-1, "Q2_K"],
  ] as const) {
    it(`${ftype}: loads, runs every mode and an AR step, logits within ${tolerance} (relative) of F16`, async () => {
      expect(existsSync(quantizer), `${quantizer}: build it with \`pnpm --filter @vall-e/native build:oracle\``).toBe(
        true,
      );
      const source = await tinyModel("F16", shape);
      const path = source.replace(/\.gguf$/, `-${ftype}.gguf`);
      if (!existsSync(path)) execFileSync(quantizer, [source, path, ftype, "2"], { stdio: "ignore", timeout: 30_000 });
      await using half = await LanguageModel.load(source);
      await using quantized = await LanguageModel.load(path);
      expect(quantized.info.weightType, "the attention matrices' type").toBe(GGML_TYPES[weightType]);
      await using a = await half.createContext({ contextSize: 256 });
      await using b = await quantized.createContext({ contextSize: 256 });
      const errors: Record<string, number> = {};
      for (const mode of MODES) {
        const spec = sampleSpec(mode, 7);
        errors[mode] = relativeError(await b.evaluate(spec), await a.evaluate(spec));
      }
      const spec = sampleSpec("ar", 3, 0);
      await a.prefill(half.assemble(spec));
      await b.prefill(quantized.assemble(spec));
      const row = half.layout.ar.start + 17;
      errors.step = relativeError(await b.step([row], 0), await a.step([row], 0));
      for (const [mode, error] of Object.entries(errors)) expect(error, mode).toBeLessThanOrEqual(tolerance);
    });
  }
});
