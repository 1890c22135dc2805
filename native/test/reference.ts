/**
 * A small TypeScript reference of what ggml computes for each weight type, used to check the native matmul.
 * f16: weights and activations rounded to IEEE half (round to nearest even), products summed in float64.
 * q8_0: blocks of 32 values, scale d = max|x| / 127 stored as half, q = round(x / d) (computed with the unrounded
 * d, as ggml does); ggml quantizes the activations to q8_0 too, so the reference does the same.
 */

/** Round a number to the nearest IEEE 754 half-precision value (ties to even). Finite inputs within half range. */
export function roundToHalf(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  let exponent = Math.floor(Math.log2(a));
  if (2 ** exponent > a) exponent -= 1;
  if (2 ** (exponent + 1) <= a) exponent += 1;
  exponent = Math.max(exponent, -14); // subnormals share the smallest exponent
  const ulp = 2 ** (exponent - 10);
  const scaled = a / ulp;
  let whole = Math.floor(scaled);
  const fraction = scaled - whole;
  if (fraction > 0.5 || (fraction === 0.5 && whole % 2 === 1)) whole += 1;
  return sign * whole * ulp;
}

/** Values after a q8_0 round trip (block of 32 along each row). */
export function roundTripQ8_0(row: Float32Array): Float64Array {
  const out = new Float64Array(row.length);
  for (let start = 0; start < row.length; start += 32) {
    let amax = 0;
    for (let i = start; i < start + 32; i++) amax = Math.max(amax, Math.abs(row[i] as number));
    const d = Math.fround(amax / 127);
    const id = d ? Math.fround(1 / d) : 0;
    const dHalf = roundToHalf(d);
    for (let i = start; i < start + 32; i++) {
      const q = Math.round(Math.fround((row[i] as number) * id));
      out[i] = q * dHalf;
    }
  }
  return out;
}

export type ReferenceType = "exact" | "f16" | "q8_0";

function prepare(data: Float32Array, rows: number, cols: number, type: ReferenceType): Float64Array {
  if (type === "exact") return Float64Array.from(data);
  if (type === "f16") return Float64Array.from(data, roundToHalf);
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(roundTripQ8_0(data.subarray(r * cols, (r + 1) * cols)), r * cols);
  return out;
}

/** output[n, m] = input[n, k] · weights[m, k]ᵀ in float64, after emulating `type` on both operands. */
export function referenceMatmul(
  weights: Float32Array,
  m: number,
  input: Float32Array,
  n: number,
  k: number,
  type: ReferenceType,
): Float64Array {
  const w = prepare(weights, m, k, type);
  const x = prepare(input, n, k, type);
  const out = new Float64Array(n * m);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < m; c++) {
      let sum = 0;
      for (let i = 0; i < k; i++) sum += (x[r * k + i] as number) * (w[c * k + i] as number);
      out[r * m + c] = sum;
    }
  }
  return out;
}

/** Deterministic uniform values in [-scale, scale) (a 32-bit LCG: reproducible across runs and machines). */
export function seededUniform(length: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (((state >>> 8) / 16777216) * 2 - 1) * scale;
  }
  return out;
}

export function maxAbsDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
  return worst;
}
