import { describe, expect, it } from "vitest";
import { binding } from "../lib/binding.js";
import {
  DisposedError,
  fromNative,
  InvalidArgumentError,
  MatmulKernel,
  matmul,
  measureVectorAddBandwidth,
  NativeError,
  type WeightType,
} from "../lib/index.js";
import { maxAbsDifference, referenceMatmul, seededUniform } from "./reference.js";

const m = 96;
const k = 256;
const n = 7;
const weights = { data: seededUniform(m * k, 1), rows: m, cols: k };
const input = { data: seededUniform(n * k, 2), rows: n, cols: k };
const exact = referenceMatmul(weights.data, m, input.data, n, k, "exact");

// Tolerances: against a reference that emulates the type's rounding, only f32 accumulation order differs; against
// the exact product, the type's own rounding error shows (half: 2^-11 relative per operand; q8_0: 1/254 of a
// block's largest value), summed over k = 256 products of values in [-1, 1).
const cases: { type: WeightType; emulated: number; exact: number }[] = [
  { type: "f32", emulated: 1e-5, exact: 1e-5 },
  { type: "f16", emulated: 1e-4, exact: 2e-2 },
  { type: "q8_0", emulated: 1e-3, exact: 1.5e-1 },
];

describe("matmul", () => {
  for (const { type, emulated, exact: exactTolerance } of cases) {
    it(`${type} weights equal the TypeScript reference`, async () => {
      const result = await matmul(weights, input, { type, threads: 2 });
      expect(result.rows).toBe(n);
      expect(result.cols).toBe(m);
      const reference = type === "f32" ? exact : referenceMatmul(weights.data, m, input.data, n, k, type);
      expect(maxAbsDifference(result.data, reference)).toBeLessThanOrEqual(emulated);
      expect(maxAbsDifference(result.data, exact)).toBeLessThanOrEqual(exactTolerance);
    });
  }

  it("gives the same result on 1 and 2 threads for a model-width q8_0 product", async () => {
    const w = { data: seededUniform(1024 * 1024, 3), rows: 1024, cols: 1024 };
    const x = { data: seededUniform(16 * 1024, 4), rows: 16, cols: 1024 };
    await using kernel = await MatmulKernel.create(w, { type: "q8_0" });
    expect(kernel.weightBytes).toBe(1024 * 32 * 34); // 34 bytes per block of 32
    const one = await kernel.compute(x, { threads: 1 });
    const two = await kernel.compute(x, { threads: 2 });
    expect(maxAbsDifference(one.data, two.data)).toBeLessThanOrEqual(1e-4);
  });

  it("rejects bad options with the exact message, before native code runs", async () => {
    await expect(matmul(weights, input, { type: "q4" as WeightType })).rejects.toThrow(
      new InvalidArgumentError('Expected one of "f32", "f16", "q8_0" for type, got "q4"'),
    );
    await expect(
      matmul({ data: new Float32Array(33 * 2), rows: 2, cols: 33 }, input, { type: "q8_0" }),
    ).rejects.toThrow("Expected a column count that is a multiple of 32 for q8_0 weights for weights.cols, got 33");
    await expect(matmul(weights, { data: new Float32Array(5 * 8), rows: 5, cols: 8 })).rejects.toThrow(
      "Expected an input with 256 columns (the weights' column count) for input.cols, got 8",
    );
    await expect(matmul({ data: new Float32Array(10), rows: 3, cols: 4 }, input)).rejects.toThrow(
      "Expected a Float32Array of length 12 for weights.data, got a Float32Array of length 10",
    );
    await expect(matmul(weights, input, { threads: -1 })).rejects.toThrow(
      "Expected an integer from 0 to 512 for threads, got -1",
    );
    await expect(matmul(weights, { data: [1, 2] as unknown as Float32Array, rows: 1, cols: 2 })).rejects.toMatchObject({
      code: "ERR_INVALID_ARGUMENT",
    });
  });

  it("turns a native error into a rejected Promise with a code and the message, without crashing", async () => {
    const raw = binding();
    // Bypass the TypeScript checks: the C API re-checks and reports.
    const rejection = raw.createMatmul(new Float32Array(32 * 33), 32, 33, 2);
    await expect(rejection).rejects.toMatchObject({
      code: "VALL_E_ERR_INVALID_ARGUMENT",
      message: "Expected k to be a multiple of 32 for q8_0 weights, got 33",
    });
    const mapped = fromNative(await rejection.catch((error: unknown) => error));
    expect(mapped).toBeInstanceOf(NativeError);
    expect(mapped).toMatchObject({ code: "ERR_INVALID_ARGUMENT", status: "VALL_E_ERR_INVALID_ARGUMENT" });

    const native = await raw.createMatmul(weights.data, m, k, 0);
    await expect(native.compute(input.data, n, 600)).rejects.toMatchObject({
      code: "VALL_E_ERR_INVALID_ARGUMENT",
      message: "Expected a thread count from 0 to 512 for threads, got 600",
    });
    expect(() => native.compute(new Float32Array(3), n, 0)).toThrow(
      "Expected 1792 input elements (n = 7 rows of k = 256), got 3",
    );
    await expect(raw.createMatmul(weights.data, 0, k, 0)).rejects.toMatchObject({
      message: "Expected an integer from 1 to 16777216 for m, got 0",
    });
    native.dispose();
  });

  it("refuses to free a handle while a compute is in flight, and the wrapper's dispose waits for it", async () => {
    const raw = await binding().createMatmul(weights.data, m, k, 0);
    const running = raw.compute(input.data, n, 1);
    expect(() => raw.dispose()).toThrow(expect.objectContaining({ code: "VALL_E_ERR_BUSY" }));
    await running;
    raw.dispose();

    const kernel = await MatmulKernel.create(weights);
    const pending = kernel.compute(input);
    await kernel.dispose();
    expect(maxAbsDifference((await pending).data, exact)).toBeLessThanOrEqual(1e-5);
    await kernel.dispose(); // idempotent
    await expect(kernel.compute(input)).rejects.toThrow(new DisposedError("MatmulKernel"));
    expect(() => kernel.weightBytes).toThrow("This MatmulKernel has been disposed");
  });

  it("keeps the event loop ticking during a long native call", async () => {
    const w = { data: seededUniform(4096 * 1024, 5), rows: 4096, cols: 1024 };
    const x = { data: seededUniform(600 * 1024, 6), rows: 600, cols: 1024 };
    await using kernel = await MatmulKernel.create(w);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const start = performance.now();
    await Promise.all([kernel.compute(x), kernel.compute(x), kernel.compute(x)]);
    const elapsed = performance.now() - start;
    clearInterval(timer);
    // The main thread was free while three ~5 GFLOP products ran on a worker thread.
    expect(elapsed).toBeGreaterThan(20);
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(elapsed / 20));
  });
});

describe("measureVectorAddBandwidth", () => {
  it("measures a positive bandwidth and validates its options", async () => {
    const result = await measureVectorAddBandwidth({ bytes: 1 << 20, iterations: 2, threads: 1 });
    expect(result.threads).toBe(1);
    expect(result.gbPerSecond).toBeGreaterThan(0);
    await expect(measureVectorAddBandwidth({ bytes: 100 })).rejects.toThrow(
      "Expected an integer from 4096 to 17179869184 for bytes, got 100",
    );
  });
});
