import { describe, expect, it } from "vitest";
import { roundToHalf, roundTripQ8_0 } from "./reference.js";

// The reference itself must be right before it can judge the native code.
describe("test reference", () => {
  it("rounds to half precision like IEEE 754 binary16", () => {
    expect(roundToHalf(1)).toBe(1);
    expect(roundToHalf(1 + 2 ** -11)).toBe(1); // a tie rounds to even
    expect(roundToHalf(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(roundToHalf(0.1)).toBe(0.0999755859375);
    expect(roundToHalf(-65504)).toBe(-65504);
    expect(roundToHalf(2 ** -24)).toBe(2 ** -24); // smallest subnormal
    expect(roundToHalf(1e-9)).toBe(0);
  });

  it("round-trips q8_0 blocks with a half-precision scale", () => {
    const row = new Float32Array(32).map((_, i) => (i - 16) / 16);
    const out = roundTripQ8_0(row);
    expect(out[0]).toBe(-127 * roundToHalf(Math.fround(1 / 127)));
    expect(out[16]).toBe(0);
  });
});
