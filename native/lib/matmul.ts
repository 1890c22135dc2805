/**
 * Matrix multiplication over ggml's CPU backend, with the weights held in f32, f16 or q8_0. The benchmark uses it
 * to measure this machine's matmul peak; tests use it to check each weight type against a TypeScript reference.
 */

import { DisposedError, expectFloat32Array, expectInteger, expectOneOf, expectThreads, invalid } from "@vall-e/core";
import { binding, type NativeMatmul } from "./binding.js";
import { callNative } from "./errors.js";

export const WEIGHT_TYPES = ["f32", "f16", "q8_0"] as const;
export type WeightType = (typeof WEIGHT_TYPES)[number];

const TYPE_IDS: Record<WeightType, number> = { f32: 0, f16: 1, q8_0: 2 };
const BLOCK_SIZE: Record<WeightType, number> = { f32: 1, f16: 1, q8_0: 32 };
const MAX_DIM = 2 ** 24;

/** A row-major matrix: `rows` rows of `cols` values. */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

export interface MatmulKernelOptions {
  /** How the weights are stored (default "f32"). q8_0 needs a column count that is a multiple of 32. */
  type?: WeightType;
}

export interface MatmulComputeOptions {
  /** Threads for this call; default: the physical core count. */
  threads?: number;
}

export interface MatmulOptions extends MatmulKernelOptions, MatmulComputeOptions {}

function expectMatrix(value: unknown, name: string): Matrix {
  if (typeof value !== "object" || value === null) {
    throw invalid("a matrix { data, rows, cols }", name, value);
  }
  const matrix = value as Partial<Matrix>;
  const rows = expectInteger(matrix.rows, `${name}.rows`, 1, MAX_DIM);
  const cols = expectInteger(matrix.cols, `${name}.cols`, 1, MAX_DIM);
  const data = expectFloat32Array(matrix.data, `${name}.data`, rows * cols);
  return { data, rows, cols };
}

/**
 * Weights converted once to a ggml type; compute() multiplies activations by them on a worker thread.
 * One compute() at a time; dispose() waits for the one in flight.
 */
export class MatmulKernel implements AsyncDisposable {
  readonly rows: number;
  readonly cols: number;
  readonly type: WeightType;
  #native: NativeMatmul | undefined;
  #inFlight: Promise<unknown> = Promise.resolve();

  private constructor(native: NativeMatmul, rows: number, cols: number, type: WeightType) {
    this.#native = native;
    this.rows = rows;
    this.cols = cols;
    this.type = type;
  }

  /** weights: [m, k], each row one output feature. */
  static async create(weights: Matrix, options: MatmulKernelOptions = {}): Promise<MatmulKernel> {
    const w = expectMatrix(weights, "weights");
    const type = expectOneOf(options.type ?? "f32", "type", WEIGHT_TYPES);
    if (w.cols % BLOCK_SIZE[type] !== 0) {
      throw invalid(
        `a column count that is a multiple of ${BLOCK_SIZE[type]} for ${type} weights`,
        "weights.cols",
        w.cols,
      );
    }
    const native = await callNative(() => binding().createMatmul(w.data, w.rows, w.cols, TYPE_IDS[type]));
    return new MatmulKernel(native, w.rows, w.cols, type);
  }

  /** Bytes the weights occupy in their stored type. */
  get weightBytes(): number {
    return this.#handle().weightBytes;
  }

  /** input: [n, k] → output [n, m] = input · weightsᵀ. */
  async compute(input: Matrix, options: MatmulComputeOptions = {}): Promise<Matrix> {
    const native = this.#handle();
    const x = expectMatrix(input, "input");
    if (x.cols !== this.cols) {
      throw invalid(`an input with ${this.cols} columns (the weights' column count)`, "input.cols", x.cols);
    }
    const threads = expectThreads(options.threads);
    // Calls queue behind each other; dispose() waits for the queue, so `native` stays valid until then.
    const run = this.#inFlight.then(() => callNative(() => native.compute(x.data, x.rows, threads)));
    this.#inFlight = run.catch(() => undefined);
    const data = await run;
    return { data, rows: x.rows, cols: this.rows };
  }

  /** Free the native weights. Idempotent; waits for a compute() in flight. */
  async dispose(): Promise<void> {
    const native = this.#native;
    if (!native) return;
    this.#native = undefined;
    await this.#inFlight;
    native.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #handle(): NativeMatmul {
    if (!this.#native) throw new DisposedError("MatmulKernel");
    return this.#native;
  }
}

/**
 * output = b · aᵀ: `a` holds the weights ([m, k], stored as `type`), `b` the f32 activations ([n, k]); the result
 * is [n, m]. Runs on a worker thread.
 */
export async function matmul(a: Matrix, b: Matrix, options: MatmulOptions = {}): Promise<Matrix> {
  const kernelOptions: MatmulKernelOptions = options.type === undefined ? {} : { type: options.type };
  const kernel = await MatmulKernel.create(a, kernelOptions);
  try {
    return await kernel.compute(b, options.threads === undefined ? {} : { threads: options.threads });
  } finally {
    await kernel.dispose();
  }
}
