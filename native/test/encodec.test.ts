import { tempDir } from "@tooling/config/temp-dir";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binding } from "../lib/binding.js";
import { CancelledError, DisposedError, EncodecModel } from "../lib/index.js";
import { writeTinyEncodec } from "./tiny-encodec.js";

const path = writeTinyEncodec(tempDir("vall-e-encodec-"));

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function signal(length: number, seed: number): Float32Array {
  const random = seeded(seed);
  return Float32Array.from({ length }, (_, i) => 0.3 * Math.sin(i / (7 + seed)) + 0.2 * (random() * 2 - 1));
}

function randomCodes(codebooks: number, frames: number, seed: number): Int16Array {
  const random = seeded(seed);
  return Int16Array.from({ length: codebooks * frames }, () => Math.floor(random() * 16));
}

describe("EncodecModel: one model, several calls at once", () => {
  let model: EncodecModel;
  beforeAll(async () => {
    model = await EncodecModel.load(path);
  });
  afterAll(async () => {
    await model.dispose();
  });

  // Short chunks, so that the calls' graphs interleave on the shared thread pool many times over.
  const decodes = [
    { codes: randomCodes(8, 60, 1), codebooks: 8, options: { chunkFrames: 8, threads: 2 } },
    { codes: randomCodes(32, 45, 2), codebooks: 32, options: { chunkFrames: 13, threads: 1 } },
    { codes: randomCodes(4, 80, 3), codebooks: 4, options: { chunkFrames: 9, threads: 2 } },
  ];
  const encodes = [
    { samples: signal(320 * 50 + 17, 4), codebooks: 8, options: { chunkFrames: 8, threads: 2 } },
    { samples: signal(320 * 40, 5), codebooks: 32, options: { chunkFrames: 11, threads: 1 } },
  ];

  it("gives exactly the results of the same calls made one after another", async () => {
    const sequential: (Float32Array | Int16Array)[] = [];
    for (const d of decodes) sequential.push(await model.decode(d.codes, d.codebooks, d.options));
    for (const e of encodes) sequential.push(await model.encode(e.samples, e.codebooks, e.options));

    const together = await Promise.all([
      ...decodes.map((d) => model.decode(d.codes, d.codebooks, d.options)),
      ...encodes.map((e) => model.encode(e.samples, e.codebooks, e.options)),
    ]);
    expect(together.map((result) => result.length)).toEqual([60 * 320, 45 * 320, 80 * 320, 8 * 51, 32 * 40]);
    together.forEach((result, i) => {
      expect(result, `call ${i}`).toEqual(sequential[i]);
    });
  });

  it("aborting one of two concurrent decodes rejects only that one", async () => {
    const short = decodes[0] as (typeof decodes)[number];
    const expected = await model.decode(short.codes, short.codebooks, short.options);
    const controller = new AbortController();
    const long = model.decode(randomCodes(8, 20_000, 6), 8, { chunkFrames: 64, signal: controller.signal });
    const other = model.decode(short.codes, short.codebooks, short.options);
    setTimeout(() => controller.abort(), 20);
    const [first, second] = await Promise.allSettled([long, other]);
    expect(first.status).toBe("rejected");
    const reason = (first as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(CancelledError);
    expect(reason).toMatchObject({ code: "ERR_CANCELLED", message: "EnCodec was cancelled" });
    expect(second).toEqual({ status: "fulfilled", value: expected });
  });

  it("a signal aborted before the call rejects it without running it", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(model.encode(signal(320, 1), 8, { signal: controller.signal })).rejects.toThrow(
      new CancelledError("EnCodec was cancelled"),
    );
  });
});

describe("EncodecModel: dispose and the native handle", () => {
  it("dispose() waits for every call in flight, then refuses new ones", async () => {
    const model = await EncodecModel.load(path);
    const finished: string[] = [];
    const calls = [
      model.decode(randomCodes(8, 200, 7), 8, { chunkFrames: 16 }).then((audio) => {
        finished.push("decode");
        return audio.length;
      }),
      model.encode(signal(320 * 100, 8), 8, { chunkFrames: 16 }).then((codes) => {
        finished.push("encode");
        return codes.length;
      }),
    ];
    await model.dispose();
    expect(finished.sort()).toEqual(["decode", "encode"]);
    expect(await Promise.all(calls)).toEqual([200 * 320, 8 * 100]);
    await model.dispose(); // idempotent
    await expect(model.decode(randomCodes(8, 1, 9), 8)).rejects.toThrow(new DisposedError("EncodecModel"));
  });

  it("the addon runs calls on one codec at once, checks each call's cancel flag, and refuses to free a busy codec", async () => {
    const raw = await binding().createCodec(path);
    const codes = randomCodes(8, 40, 10);
    expect(() => raw.decode(codes, 8, 40, 1, 0, new Float32Array(1) as unknown as Int32Array)).toThrow(
      expect.objectContaining({
        code: "VALL_E_ERR_INVALID_ARGUMENT",
        message: "Expected an Int32Array of at least one element for cancel",
      }),
    );
    expect(() => raw.decode(codes, 8, 40, 1, 0, new Int32Array(0))).toThrow(
      "Expected an Int32Array of at least one element for cancel",
    );
    // A flag already set stops the call at its first check.
    await expect(raw.decode(codes, 8, 40, 1, 0, Int32Array.of(1))).rejects.toMatchObject({
      code: "VALL_E_ERR_CANCELLED",
      message: "the computation was cancelled",
    });
    // No busy flag: a second call while the first runs is not refused, and setting one call's flag stops only it.
    const stopped = Int32Array.of(0);
    const running = [
      raw.decode(codes, 8, 40, 1, 8, new Int32Array(1)),
      raw.decode(codes, 8, 40, 2, 8, new Int32Array(1)),
      raw.decode(randomCodes(8, 20_000, 11), 8, 20_000, 1, 64, stopped),
    ];
    expect(() => raw.dispose()).toThrow(expect.objectContaining({ code: "VALL_E_ERR_BUSY" }));
    setTimeout(() => Atomics.store(stopped, 0, 1), 10);
    const [one, two, three] = await Promise.allSettled(running);
    expect(one).toEqual(two);
    expect((one as PromiseFulfilledResult<Float32Array>).value.length).toBe(40 * 320);
    expect(three).toMatchObject({ status: "rejected", reason: { code: "VALL_E_ERR_CANCELLED" } });
    raw.dispose();
  });
});
