import { readFileSync } from "node:fs";
import { fixture } from "@tooling/config/fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InputSpec } from "../src/inputs/assemble.js";
import { LanguageModel, type LanguageModelContext } from "../src/language-model.js";

const dir = fixture("lm");
const read = (name: string) => readFileSync(`${dir.path}/${name}`);

function npyFloat32(name: string): Float32Array {
  const bytes = read(name);
  const header = bytes.readUInt16LE(8);
  const data = bytes.subarray(10 + header);
  return new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

function compare(
  actual: Float32Array,
  expected: Float32Array,
  width: number,
): { maxAbs: number; argmaxEqual: boolean } {
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++)
    maxAbs = Math.max(maxAbs, Math.abs((actual[i] as number) - (expected[i] as number)));
  let argmaxEqual = actual.length === expected.length;
  for (let r = 0; r < expected.length / width; r++) {
    let a = 0;
    let b = 0;
    for (let j = 0; j < width; j++) {
      if ((actual[r * width + j] as number) > (actual[r * width + a] as number)) a = j;
      if ((expected[r * width + j] as number) > (expected[r * width + b] as number)) b = j;
    }
    argmaxEqual &&= a === b;
  }
  return { maxAbs, argmaxEqual };
}

interface Case {
  name: string;
  input: string;
  logits: string;
  mode: string;
  positions: number[];
  head: { start: number; end: number };
}

describe.skipIf(!dir.present)(`native logits vs the independent float64 reference ${dir.reason}`, () => {
  const manifest = dir.present ? (JSON.parse(read("manifest.json").toString()) as { cases: Case[] }) : { cases: [] };
  const models = new Map<string, { model: LanguageModel; context: LanguageModelContext }>();
  const model = `${dir.path}/valle_tiny_random_f16.gguf`;
  beforeAll(async () => {
    for (const [name, profile] of [
      ["reference", {}],
      ["silu", { activation: "silu" }],
      ["unified", { positions: "unified" }],
      ["causal", { narAttention: "causal" }],
    ] as const) {
      const loaded = await LanguageModel.load(model, { profile });
      models.set(name, { model: loaded, context: await loaded.createContext({ contextSize: 512 }) });
    }
  });
  afterAll(async () => {
    for (const { model: loaded } of models.values()) await loaded.dispose();
  });

  for (const c of manifest.cases) {
    it(`${c.name} (${c.mode}): positions, head, logits within 5e-3 and the same argmax on every row`, async () => {
      const spec = JSON.parse(read(c.input).toString()) as InputSpec;
      const { model: reference, context } = models.get("reference") as {
        model: LanguageModel;
        context: LanguageModelContext;
      };
      const input = reference.assemble(spec);
      expect(input.positions).toEqual(c.positions);
      expect(input.head).toEqual(c.head);
      const width = c.head.end - c.head.start;
      const result = compare(await context.forward([input]), npyFloat32(c.logits), width);
      expect(result.maxAbs).toBeLessThanOrEqual(5e-3);
      expect(result.argmaxEqual).toBe(true);
      // Each profile switch lands on the reference's variant with the same switch.
      const variants = c.mode === "ar" || c.mode === "len" ? ["silu", "unified"] : ["silu", "unified", "causal"];
      for (const variant of variants) {
        const { model: other, context: otherContext } = models.get(variant) as {
          model: LanguageModel;
          context: LanguageModelContext;
        };
        const logits = await otherContext.forward([other.assemble(spec)]);
        expect(
          compare(logits, npyFloat32(c.logits.replace(".logits.", `.diag-${variant}.`)), width).maxAbs,
          variant,
        ).toBeLessThanOrEqual(5e-3);
      }
    });
  }
});
