import { describe, expect, it } from "vitest";
import { codebooksForBandwidth, framesForSamples, HOP_LENGTH } from "../src/encodec.js";

describe("EnCodec facts", () => {
  it("maps each bandwidth to its codebook count", () => {
    expect([1.5, 3, 6, 12, 24].map(codebooksForBandwidth)).toEqual([2, 4, 8, 16, 32]);
    expect(HOP_LENGTH).toBe(320);
  });

  it("rejects other bandwidths with the supported list", () => {
    expect(() => codebooksForBandwidth(5)).toThrow(
      "Expected a bandwidth of 1.5, 3, 6, 12 or 24 (kbps) for bandwidth, got 5",
    );
    expect(() => codebooksForBandwidth("6" as unknown as number)).toThrow(
      'Expected a bandwidth of 1.5, 3, 6, 12 or 24 (kbps) for bandwidth, got "6"',
    );
  });

  it("counts frames as ceil(samples / 320)", () => {
    expect(framesForSamples(0)).toBe(0);
    expect(framesForSamples(1)).toBe(1);
    expect(framesForSamples(320)).toBe(1);
    expect(framesForSamples(321)).toBe(2);
    expect(() => framesForSamples(-1)).toThrow("Expected a non-negative integer for samples, got -1");
  });
});
