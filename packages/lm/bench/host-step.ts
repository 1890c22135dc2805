/**
 * Host work per AR step (no model evaluation): what the process does in JavaScript around each one-token step —
 * the new token's rows and position (nextArToken), its native sequence form, and sampling the 1025-wide row with the
 * default sampler — at 100, 500 and 1000 response frames; against re-assembling the whole input to take its last row
 * (the former way), measured in the same run. Flat is the target: the step's host cost must not grow with length.
 */
import { type BenchRow, report } from "@tooling/bench";
import {
  arSampler,
  assembleInput,
  createRng,
  nextArToken,
  REFERENCE_PROFILE,
  resolveSampling,
  sampleRow,
  toSequence,
} from "../src/index.js";

const phonemes = [1, ...Array.from({ length: 48 }, (_, i) => 3 + (i % 200)), 2];
const prompt = Array.from({ length: 8 }, (_, l) => Array.from({ length: 225 }, (_, t) => (t * 7 + l * 13) % 1024));
const sampler = arSampler(resolveSampling({}));
const rng = createRng(1);
const logits = Float32Array.from({ length: 1025 }, (_, i) => Math.sin(i * 0.37) * 4);
const rows: BenchRow[] = [];
let warmed = false;

// The first pass warms the JIT up and is not reported.
for (const frames of [100, 100, 500, 1000]) {
  const codes = Array.from({ length: frames }, (_, t) => (t * 31) % 1024);
  const spec = { mode: "ar" as const, phonemes, lang: "en" as const, rvqLevel: 0, prompt: prompt.slice(0, 1) };
  const prefill = assembleInput({ ...spec, response: [[]] });
  const iterations = 2000;
  let t0 = performance.now();
  for (let i = 0; i < iterations; i++) {
    const next = nextArToken(prefill, frames - 1, codes[frames - 1] as number, REFERENCE_PROFILE);
    toSequence({ rows: [next.rows], positions: [next.position], causal: true, outputs: 1, head: prefill.head });
    sampleRow(logits, sampler, { previous: codes, stop: 1024, rng });
  }
  const stepMicros = ((performance.now() - t0) * 1e3) / iterations;
  const slowIterations = 200;
  t0 = performance.now();
  for (let i = 0; i < slowIterations; i++) {
    const input = assembleInput({ ...spec, response: [codes] });
    toSequence({
      rows: [input.rows.at(-1) as number[]],
      positions: [input.positions.at(-1) as number],
      causal: true,
      outputs: 1,
      head: input.head,
    });
    sampleRow(logits, sampler, { previous: codes, stop: 1024, rng });
  }
  const reassembleMicros = ((performance.now() - t0) * 1e3) / slowIterations;
  if (rows.length === 0 && frames === 100 && !warmed) {
    warmed = true;
    continue;
  }
  rows.push({
    name: `AR step host work at ${frames} frames`,
    params: { frames, promptFrames: 225, phonemes: phonemes.length },
    metrics: { stepMicros, reassembleMicros, reassembleOverStep: reassembleMicros / stepMicros },
  });
}
report("lm-host-step", rows, {});
