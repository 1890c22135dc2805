import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import type { GgmlTypeName } from "@vall-e/native";
import type { InputSpec } from "../src/inputs/assemble.js";
import { type RandomModelOptions, writeRandomModel } from "../src/model/random-model.js";

const cache = new Map<string, Promise<string>>();
let root: string | undefined; // one per test process, removed with the run's sandbox

/** A tiny random VALL-E GGUF (width 32, 2 layers, 4 heads, 2 KV heads, FFN 64), written once per test process. */
export function tinyModel(type: GgmlTypeName = "F32", extra: Partial<RandomModelOptions> = {}): Promise<string> {
  const key = `${type}:${JSON.stringify(extra)}`;
  let path = cache.get(key);
  if (!path) {
    root ??= tempDir("vall-e-lm-", { scope: "run" });
    const file = join(root, `tiny-${cache.size}-${type}.gguf`);
    path = writeRandomModel(file, {
      width: 32,
      layers: 2,
      heads: 4,
      kvHeads: 2,
      ffn: 64,
      type,
      seed: 11,
      ...extra,
    }).then(() => file);
    cache.set(key, path);
  }
  return path;
}

/** A seeded LCG in [0, 1): the deterministic inputs of the tests. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A deterministic input of each mode (T frames of response, P of prompt). */
export function sampleSpec(mode: InputSpec["mode"], seed = 1, frames = 6, promptFrames = 9): InputSpec {
  const random = seeded(seed);
  const codes = (levels: number, length: number, max = 1024) =>
    Array.from({ length: levels }, () => Array.from({ length }, () => Math.floor(random() * max)));
  const level = mode === "nar" ? 3 : 0;
  return {
    mode,
    // stt: the phonemes generated so far (no </eos> yet)
    phonemes: [1, ...Array.from({ length: 7 }, () => 4 + Math.floor(random() * 200)), ...(mode === "stt" ? [] : [2])],
    lang: "de",
    rvqLevel: level,
    prompt: codes(8, promptFrames),
    response:
      mode === "nar-len"
        ? codes(1, frames, 1025)
        : mode === "nar"
          ? codes(level, frames)
          : mode === "stt"
            ? codes(8, frames) // the speech: all its levels (stt embeds 0 … 6)
            : codes(1, frames),
    ...(mode === "len" ? { len: [0, 4, 2] } : {}),
  };
}
