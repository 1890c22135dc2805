/**
 * What test/c-api-test.c checks the C API against: fixed inputs for the tiny LM (test/tiny-lm.ts) and the tiny
 * EnCodec (test/tiny-encodec.ts), and what the TypeScript path — @vall-e/native's LmModel, LmContext and
 * EncodecModel through the addon — computes for them, as named arrays in one binary file the C program reads.
 *
 * test/c-api-test.c's expected messages name these sizes (vocabulary 384, head [100, 300), 6 and 7 tokens, a context
 * of 64): change them together.
 *
 * File layout (little-endian): "VECA", u32 version (1), then records to the end of the file: u32 name length, the
 * name (ASCII), u32 type (0 f32, 1 i32, 2 i16), u32 count, then count values.
 */
import { writeFileSync } from "node:fs";
import { EncodecModel, type LmHead, LmModel, type LmSequence } from "../lib/index.js";

/**
 * Threads and chunk size of every call on both sides, so both compute in the same order. One thread: ggml's workers
 * wait for each other at every node, which on a loaded machine (tests of several packages at once) costs a time
 * slice per node.
 */
export const CASE_THREADS = 1;
export const CASE_CHUNK_FRAMES = 8;
export const CASE_CONTEXT_SIZE = 64;

type Values = Float32Array | Int32Array | Int16Array;

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * A sequence the way VALL-E's inputs look to the decoder: each token the sum of 1 to `maxRows` embedding rows (a
 * frame's codes of several levels, or a phoneme plus a language row), with the given positions.
 */
function sequence(
  seed: number,
  positions: number[],
  maxRows: number,
  causal: boolean,
  outputs: number,
  vocab: number,
): LmSequence {
  const random = seeded(seed);
  const offsets = [0];
  const rows: number[] = [];
  for (const _ of positions) {
    const count = 1 + Math.floor(random() * maxRows);
    for (let r = 0; r < count; r++) rows.push(Math.floor(random() * vocab));
    offsets.push(rows.length);
  }
  return {
    rowOffsets: Int32Array.from(offsets),
    rowIds: Int32Array.from(rows),
    positions: Int32Array.from(positions),
    causal,
    outputs,
  };
}

function signal(length: number, seed: number): Float32Array {
  const random = seeded(seed);
  return Float32Array.from({ length }, (_, i) => 0.3 * Math.sin(i / 9) + 0.2 * (random() * 2 - 1));
}

function sequenceRecords(name: string, s: LmSequence): [string, Values][] {
  return [
    [`${name}.row_offsets`, s.rowOffsets],
    [`${name}.row_ids`, s.rowIds],
    [`${name}.positions`, s.positions],
    [`${name}.flags`, Int32Array.from([s.causal ? 1 : 0, s.outputs])],
  ];
}

/** The LM's inputs and logits: one forward of two sequences (full attention and causal), a prefill and one step. */
async function lmRecords(path: string): Promise<[string, Values][]> {
  await using model = await LmModel.load(path);
  const vocab = model.info.nVocab;
  await using context = await model.createContext({
    contextSize: CASE_CONTEXT_SIZE,
    threads: CASE_THREADS,
    cacheType: "f16",
  });
  // NAR-like (full attention, logits for the last 4 tokens) and AR-like (causal, positions restarting per segment).
  const forward = [
    sequence(1, [0, 1, 2, 3, 4, 5], 3, false, 4, vocab),
    sequence(2, [0, 1, 2, 0, 1], 2, true, 1, vocab),
  ];
  const head: LmHead = { start: 100, end: 300 };
  const prefill = sequence(3, [0, 1, 2, 3, 0, 1, 2], 3, true, 2, vocab);
  const step = sequence(4, [3], 2, true, 1, vocab);
  const info = model.info;
  return [
    [
      "lm.info",
      Int32Array.from([
        info.nEmbd,
        info.nLayer,
        info.nHead,
        info.nHeadKv,
        info.nFf,
        info.nVocab,
        info.nCtxTrain,
        info.hasOutputBias ? 1 : 0,
      ]),
    ],
    ["lm.head", Int32Array.from([head.start, head.end])],
    ...sequenceRecords("lm.forward.0", forward[0] as LmSequence),
    ...sequenceRecords("lm.forward.1", forward[1] as LmSequence),
    ["lm.forward.logits", await context.forward(forward, head)],
    ...sequenceRecords("lm.prefill", prefill),
    ["lm.prefill.logits", await context.append(prefill, head)],
    ...sequenceRecords("lm.step", step),
    ["lm.step.logits", await context.append(step, head)],
  ];
}

/** The codec's inputs and outputs: a decode of fixed codes, an encode (codes and latents) of a fixed signal. */
async function codecRecords(path: string): Promise<[string, Values][]> {
  await using model = await EncodecModel.load(path);
  const options = { threads: CASE_THREADS, chunkFrames: CASE_CHUNK_FRAMES };
  const codebooks = 8;
  const frames = 12;
  const random = seeded(5);
  const codes = Int16Array.from({ length: codebooks * frames }, () => Math.floor(random() * model.info.bins));
  const samples = signal(320 * 10 + 17, 6);
  const info = model.info;
  return [
    [
      "codec.info",
      Int32Array.from([
        info.sampleRate,
        info.hopLength,
        info.hiddenDim,
        info.nFilters,
        info.bins,
        info.codebooks,
        info.weightType === "f16" ? 1 : 0,
      ]),
    ],
    ["codec.decode.shape", Int32Array.from([codebooks, frames])],
    ["codec.decode.codes", codes],
    ["codec.decode.samples", await model.decode(codes, codebooks, options)],
    ["codec.encode.codebooks", Int32Array.from([codebooks])],
    ["codec.encode.samples", samples],
    ["codec.encode.codes", await model.encode(samples, codebooks, options)],
    ["codec.encode.latent", await model.encodeLatent(samples, options)],
  ];
}

function encode(records: [string, Values][]): Uint8Array {
  const parts: Uint8Array[] = [new TextEncoder().encode("VECA"), new Uint8Array(Uint32Array.of(1).buffer)];
  for (const [name, values] of records) {
    const type = values instanceof Float32Array ? 0 : values instanceof Int32Array ? 1 : 2;
    const nameBytes = new TextEncoder().encode(name);
    parts.push(new Uint8Array(Uint32Array.of(nameBytes.length).buffer), nameBytes);
    parts.push(new Uint8Array(Uint32Array.of(type, values.length).buffer));
    parts.push(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Compute the cases through the TypeScript path and write them to `path`. */
export async function writeCApiCases(path: string, lmPath: string, codecPath: string): Promise<void> {
  const records = [
    ["params", Int32Array.from([CASE_THREADS, CASE_CHUNK_FRAMES, CASE_CONTEXT_SIZE])] as [string, Values],
    ...(await lmRecords(lmPath)),
    ...(await codecRecords(codecPath)),
  ];
  writeFileSync(path, encode(records));
}
