import { describe, expect, it } from "vitest";
import { arSampler, DEFAULT_SAMPLING, narLenSampler, narSampler, resolveSampling } from "../src/sampling/options.js";
import { createRng, MAX_SEED } from "../src/sampling/rng.js";
import {
  argmax,
  categorical,
  dry,
  dynamicTemperature,
  lengthPenalty,
  minP,
  processLogits,
  repetitionPenalty,
  type SamplerOptions,
  sampleRow,
  softmax,
  temperature,
  topK,
  topNSigma,
  topP,
} from "../src/sampling/samplers.js";
import { cfgLogits, decodeLength, durationFrames, linspace32, maskSchedule } from "../src/sampling/schedule.js";

const NEG = Number.NEGATIVE_INFINITY;
const list = (a: ArrayLike<number>) => Array.from(a);

describe("samplers, each against hand-computed cases", () => {
  it("softmax, argmax, temperature", () => {
    const [a, b] = softmax([0, Math.log(3)]);
    expect([a, b].map((v) => Number(v?.toFixed(12)))).toEqual([0.25, 0.75]);
    expect(list(softmax([NEG, 1]))).toEqual([0, 1]);
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(list(temperature([1, -2, 4], 2))).toEqual([0.5, -1, 2]);
    expect(list(temperature([1, -2], 0))).toEqual([1, -2]);
  });

  it("dynamic temperature: T' = T − (T − Tmin) / (1 + e^(−10·(pmax − 0.5)))", () => {
    // two equal logits: pmax = 0.5 → T' = T − (T − Tmin)/2 = 0.75 for T 1, Tmin 0.5
    expect(list(dynamicTemperature([3, 3], 1, 0.5))).toEqual([4, 4]);
  });

  it("top-k keeps the k largest (ties included), clamps k, k ≤ 0 keeps all", () => {
    expect(list(topK([1, 5, 3, 4], 2))).toEqual([NEG, 5, NEG, 4]);
    expect(list(topK([1, 5, 4, 4], 2))).toEqual([NEG, 5, 4, 4]);
    expect(list(topK([1, 2], 10))).toEqual([1, 2]);
    expect(list(topK([1, 2], -100))).toEqual([1, 2]);
  });

  it("top-p keeps the token that crosses p, and always the most likely", () => {
    const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)];
    expect(list(topP(logits, 0.7)).map(Number.isFinite)).toEqual([true, true, false, false]);
    expect(list(topP(logits, 0.81)).map(Number.isFinite)).toEqual([true, true, true, false]);
    expect(list(topP(logits, 0.1)).map(Number.isFinite)).toEqual([true, false, false, false]);
  });

  it("min-p drops p < min_p · max(p) but keeps the 32 highest logits", () => {
    const logits = [Math.log(0.6), Math.log(0.3), Math.log(0.1)];
    expect(list(minP(logits, 0.4, 1)).map(Number.isFinite)).toEqual([true, true, false]);
    expect(list(minP(logits, 0.4)).map(Number.isFinite)).toEqual([true, true, true]); // 3 ≤ 32: all kept
    const wide = Array.from({ length: 40 }, (_, i) => (i === 0 ? 20 : -i));
    expect(list(minP(wide, 0.5)).filter(Number.isFinite)).toHaveLength(32);
  });

  it("top-nσ keeps logits ≥ max − n·σ (σ Bessel-corrected, over the finite logits)", () => {
    // [0, 1, 2, 3]: mean 1.5, σ = √(5/3) = 1.291 → keep ≥ 1.709
    expect(list(topNSigma([0, 1, 2, 3])).map(Number.isFinite)).toEqual([false, false, true, true]);
    expect(list(topNSigma([0, 1, 2, 3, NEG])).map(Number.isFinite)).toEqual([false, false, true, true, false]);
    expect(list(topNSigma([0, 1, 2, 3], 2)).map(Number.isFinite)).toEqual([false, true, true, true]);
  });

  it("repetition penalty divides once per occurrence by factor · distance^decay", () => {
    // previous [2, 0, 2]: token 2 at distances 3 and 1, token 0 at distance 2
    const out = repetitionPenalty([4, 1, 8], [2, 0, 2], 2, 1);
    expect(list(out)).toEqual([4 / (2 * 2), 1, 8 / (2 * 3) / (2 * 1)]);
    expect(list(repetitionPenalty([-4, 1], [0], 2))).toEqual([-2, 1]); // no sign handling; one token counts
    expect(list(repetitionPenalty([4, 1], [0, 7], 2))).toEqual([2, 1]); // tokens outside the row are ignored
  });

  it("length penalty divides the stop logit by (length + 1)^factor", () => {
    expect(list(lengthPenalty([1, 9], 2, 2, 1))).toEqual([1, 1]);
  });

  it("DRY penalises the repeated tokens by multiplier · base^(m − allowed), in first-seen order", () => {
    // previous 0 0 0 0 (last index 3): i = 1 matches p[0] = p[2] → m 2; i = 2 matches p[1] = p[2], p[0] = p[1] → m 3
    // (the last position is not matched with itself) → token 0: 1 · 2^(3 − 2) = 2.
    expect(list(dry([10, 10], [0, 0, 0, 0], 1, 2, 2))).toEqual([8, 10]);
    // a b c a b c: c (i = 2) matches "b a" before the last → m 3, but a, seen first, has m 1 < 2: the loop stops there.
    expect(list(dry([10, 10, 10], [0, 1, 2, 0, 1, 2], 1, 2, 2))).toEqual([10, 10, 10]);
    // 1 0 0 0 0: token 1 first seen, m 1 → nothing; multiplier 0 → off
    expect(list(dry([10, 10], [1, 0, 0, 0, 0], 1, 2, 2))).toEqual([10, 10]);
    expect(list(dry([10, 10], [0, 0, 0, 0], 0))).toEqual([10, 10]);
  });

  it("categorical draws by the cumulative distribution; the stream is the seed's", () => {
    const fixed = (u: number) => ({ seed: 0, next: () => u });
    expect(categorical([0.2, 0.5, 0.3], fixed(0.1))).toBe(0);
    expect(categorical([0.2, 0.5, 0.3], fixed(0.69))).toBe(1);
    expect(categorical([0.2, 0.5, 0.3], fixed(0.7))).toBe(2);
    expect(categorical([0.5, 0.5, 0], fixed(0.9999999999))).toBe(1);
    const a = createRng(42);
    const b = createRng(42);
    const draws = Array.from({ length: 1000 }, () => a.next());
    expect(draws).toEqual(Array.from({ length: 1000 }, () => b.next()));
    expect(draws.every((u) => u >= 0 && u < 1)).toBe(true);
    expect(Math.abs(draws.reduce((x, y) => x + y, 0) / 1000 - 0.5)).toBeLessThan(0.05);
    expect(createRng(43).next()).not.toBe(createRng(42).next());
    expect(() => createRng(-1)).toThrow(`Expected an integer from 0 to ${MAX_SEED} for seed, got -1`);
  });
});

// The default settings as one stage's sampler: temperature 1, every filter off.
const base: SamplerOptions = arSampler(DEFAULT_SAMPLING);

describe("sampleRow: the reference order", () => {
  it("greedy at T ≤ 0, with the score = softmax of the processed logits", () => {
    const { token, score } = sampleRow([0, Math.log(3)], { ...base, temperature: 0 }, { rng: createRng(1) });
    expect(token).toBe(1);
    expect(score).toBeCloseTo(0.75, 12);
  });

  it("filters before the temperature, top-nσ after it", () => {
    // top-k 2 first, then T = 0.5 doubles the kept logits
    expect(list(processLogits([1, 3, 2], { ...base, topK: 2, temperature: 0.5 }, {}))).toEqual([NEG, 6, 4]);
    // repetition penalty precedes min-p: token 1 (prob high) is penalised out of reach
    const out = processLogits([0, 4], { ...base, repetitionPenalty: 4, minP: 0.9 }, { previous: [1] });
    expect(list(out)).toEqual([0, 1]);
  });

  it("samples every token in proportion to its probability; the same seed gives the same draws", () => {
    const rng = createRng(7);
    const counts = [0, 0, 0];
    const row = [0, Math.log(2), Math.log(5)];
    for (let i = 0; i < 8000; i++) {
      const { token } = sampleRow(row, base, { rng });
      counts[token] = (counts[token] as number) + 1;
    }
    expect(counts.map((c) => Math.round((c / 8000) * 8))).toEqual([1, 2, 5]);
    const draws = (seed: number) => {
      const r = createRng(seed);
      return Array.from({ length: 50 }, () => sampleRow(row, base, { rng: r }).token);
    };
    expect(draws(3)).toEqual(draws(3));
    expect(draws(3)).not.toEqual(draws(4));
  });

  it("Repetition Aware Sampling redraws a token that fills the recent window", () => {
    const row = [10, 0]; // token 0 almost surely
    const options = { ...base, repetitionAware: { window: 4, ratio: 0.75 } };
    const rng = {
      seed: 0,
      draws: [0.1, 0.99999999],
      next() {
        return this.draws.shift() ?? 0.5;
      },
    };
    expect(sampleRow(row, options, { previous: [0, 0, 0, 1], rng }).token).toBe(1); // redrawn with u = 0.99999999
    expect(sampleRow(row, options, { previous: [0, 1, 1, 1], rng: createRng(1) }).token).toBe(0);
  });
});

describe("procedure arithmetic", () => {
  it("len digits → frames: [0,2,4,0,10] → 240 → 252; below the floor → 78; clamped to the maximum", () => {
    expect(decodeLength([0, 2, 4, 0, 10])).toBe(240);
    expect(durationFrames(240, { maxFrames: 900 })).toBe(252);
    expect(durationFrames(decodeLength([0, 6, 0, 10]), { maxFrames: 900 })).toBe(78);
    expect(durationFrames(5000, { maxFrames: 900 })).toBe(900);
  });

  it("linspace32 matches torch.linspace in float32 (second half counted from the end)", () => {
    const t = linspace32(0, 1, 25);
    expect(t).toHaveLength(25);
    expect([t[0], t[24]]).toEqual([0, 1]);
    expect(t[1]).toBe(Math.fround(1 / 24));
    expect(t[23]).toBe(Math.fround(1 - Math.fround(1 / 24)));
  });

  it("the NAR-len masked counts for T = 300, 25 steps are the spec's", () => {
    expect(maskSchedule(300, 25).map((s) => s.masked)).toEqual([
      300, 299, 297, 294, 289, 284, 277, 269, 259, 249, 238, 225, 212, 197, 182, 166, 150, 132, 114, 96, 77, 58, 39, 19,
      1,
    ]);
    const remasked = maskSchedule(300, 25, { remask: true }).map((s) => s.masked);
    expect(remasked[0]).toBe(300);
    expect(remasked[24]).toBe(6); // cos(π/2) ≈ 0, + 1/50 of 300
    expect(remasked[12]).toBe(Math.trunc((Math.cos((Math.fround(0.5) * Math.PI) / 2) + 1 / 50) * 300));
  });

  it("CFG: g = null + (pos − null)·s, rescaled by the block's Bessel-corrected std", () => {
    const pos = [1, 2, 3, 4];
    const neg = [0, 0, 0, 0];
    expect(list(cfgLogits(pos, neg, 2, 0))).toEqual([2, 4, 6, 8]);
    // std(pos) = √(5/3), std(g) = 2√(5/3) → factor = 0.75 · ½ + 0.25 = 0.625
    expect(list(cfgLogits(pos, neg, 2, 0.75))).toEqual([1.25, 2.5, 3.75, 5]);
    const block = cfgLogits([1, 0, 0, 3], [1, 1, 1, 1], 3, 0.5); // one factor over the whole block
    const g = [1, -2, -2, 7];
    const stdOf = (v: number[]) => {
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
    };
    const factor = (0.5 * stdOf([1, 0, 0, 3])) / stdOf(g) + 0.5;
    expect(list(block).map((v) => Number(v.toFixed(5)))).toEqual(
      g.map((v) => Number(Math.fround(v * factor).toFixed(5))),
    );
    expect(() => cfgLogits([1], [1, 2], 1, 0)).toThrow("CFG needs blocks of one size, got 1 and 2");
  });
});

describe("sampling options: defaults and domains", () => {
  it("fills the reference's effective defaults (its web UI's) and maps them onto each stage", () => {
    const s = resolveSampling();
    expect(s).toEqual(DEFAULT_SAMPLING);
    expect([s.arTemperature, s.narTemperature, s.maxSteps, s.cfgRescale, s.topNSigma]).toEqual([1, 0, 50, 0.75, 0]);
    expect(arSampler(resolveSampling({ topK: 20 }))).toMatchObject({ temperature: 1, topK: 20 });
    expect(narSampler(resolveSampling({ lengthPenalty: 1 }))).toMatchObject({ temperature: 0, lengthPenalty: 0 });
    expect(narLenSampler(resolveSampling({ repetitionPenalty: 2 }), 0.75)).toMatchObject({
      temperature: 0.25,
      repetitionPenalty: 1,
    });
  });

  it("rejects values outside their domain with exact messages", () => {
    expect(() => resolveSampling({ arTemperature: -1 })).toThrow(
      "Expected a number ≥ 0 for sampling.arTemperature, got -1",
    );
    expect(() => resolveSampling({ topP: 1.5 })).toThrow("Expected a number in (0, 1] for sampling.topP, got 1.5");
    expect(() => resolveSampling({ minP: 1 })).toThrow("Expected a number in [0, 1) for sampling.minP, got 1");
    expect(() => resolveSampling({ topK: 2.5 })).toThrow("Expected an integer ≥ 0 for sampling.topK, got 2.5");
    expect(() => resolveSampling({ maxSteps: 0 })).toThrow(
      "Expected an integer from 1 to 1000 for sampling.maxSteps, got 0",
    );
    expect(() => resolveSampling({ cfgRescale: Number.NaN })).toThrow(
      "Expected a number in [0, 1] for sampling.cfgRescale, got NaN",
    );
    expect(() => resolveSampling({ repetitionAware: { window: 0, ratio: 0.5 } })).toThrow(
      "Expected an integer ≥ 1 for sampling.repetitionAware.window, got 0",
    );
    expect(() => resolveSampling({ repetitionAware: { window: 4, ratio: 0 } })).toThrow(
      "for sampling.repetitionAware.ratio, got 0",
    );
    expect(() => resolveSampling({ temperature: 1 } as never)).toThrow(
      /^Expected one of arTemperature, .* got "temperature"$/,
    );
  });
});

describe("mirostat", () => {
  it("Zipf estimate, k from μ, and the μ update on a hand-made Zipf row", async () => {
    const { mirostat } = await import("../src/sampling/samplers.js");
    // p_i ∝ 1/(i+1)^2 over 200 tokens: ŝ = 2 exactly, ε = 1.
    const row = Array.from({ length: 200 }, (_, i) => -2 * Math.log(i + 1));
    const state = { mu: 2 * 3 };
    // k = ((1 · 2^6) / (1 − 200^−1))^(1/2) = 8.02 → 8; u = 0 draws the most likely token.
    const token = mirostat(row, 3, 0.5, state, { seed: 0, next: () => 0 });
    expect(token).toBe(0);
    const top8 = Array.from({ length: 8 }, (_, i) => 1 / (i + 1) ** 2).reduce((a, b) => a + b, 0);
    const surprise = -Math.log2(1 / top8);
    expect(state.mu).toBeCloseTo(6 - 0.5 * (surprise - 3), 12);
    // u just below 1 draws the 8th token (index 7): only the top k are candidates.
    expect(mirostat(row, 3, 0.5, { mu: 6 }, { seed: 0, next: () => 0.999999 })).toBe(7);
    expect(() => resolveSampling({ mirostatEta: 0 })).toThrow("Expected a number > 0 for sampling.mirostatEta, got 0");
  });
});
