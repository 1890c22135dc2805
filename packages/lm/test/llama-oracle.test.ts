// Our LM graph against llama.cpp's llama_decode on the same F16 file, under the llama-compatible profile (SiLU,
// unified positions, causal). The test-only program native/build-oracle/vall_e_llama_oracle links libllama and our
// core and evaluates the same token ids with both; turbo builds it before these tests (@vall-e/native#build:oracle).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { tinyModel } from "./tiny.js";

const oracle = fileURLToPath(new URL("../../../native/build-oracle/vall_e_llama_oracle", import.meta.url));

interface OracleResult {
  tokens: number;
  vocab: number;
  maxRelative: number;
  maxAbsolute: number;
  argmaxEqual: number;
}

function runOracle(model: string, tokens: number, seed: number): OracleResult {
  if (!existsSync(oracle)) {
    throw new Error(`${oracle} is missing: build it with \`pnpm --filter @vall-e/native build:oracle\``);
  }
  const output = execFileSync(oracle, [model, String(tokens), String(seed), "2"], { encoding: "utf8" });
  return JSON.parse(output) as OracleResult;
}

describe("llama.cpp oracle (llama_decode on the same GGUF)", () => {
  it.each([
    { shape: "width 32, 4 heads, 2 KV heads", extra: {}, tokens: 48 },
    {
      shape: "width 256, 4 heads, 3 layers",
      extra: { width: 256, layers: 3, heads: 4, kvHeads: 4, ffn: 512, seed: 5 },
      tokens: 300,
    },
  ])(
    "equals llama_decode logits on every row and the whole vocabulary ($shape, F16)",
    async ({ extra, tokens }) => {
      const model = await tinyModel("F16", extra);
      const result = runOracle(model, tokens, 7);
      expect(result.vocab).toBe(17702);
      expect(result.tokens).toBe(tokens);
      expect(result.maxRelative).toBeLessThanOrEqual(2e-3);
      expect(result.argmaxEqual).toBe(tokens);
    },
    120_000,
  );
});
