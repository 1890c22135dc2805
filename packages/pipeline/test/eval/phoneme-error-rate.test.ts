import { describe, expect, it } from "vitest";
import { editDistance, phonemeErrorRate } from "../../src/eval/phoneme-error-rate.js";

describe("phoneme error rate", () => {
  it("edit distance counts substitutions, insertions and deletions", () => {
    expect(editDistance([], [])).toBe(0);
    expect(editDistance([5, 6, 7], [5, 6, 7])).toBe(0);
    expect(editDistance([5, 6, 7], [5, 9, 7])).toBe(1); // one substitution
    expect(editDistance([5, 6, 7], [5, 7])).toBe(1); // one deletion
    expect(editDistance([5, 7], [5, 6, 7, 8])).toBe(2); // two insertions
    expect(editDistance([1, 2, 3, 4], [4, 3, 2, 1])).toBe(4);
    // kitten → sitting as numbers: 3
    expect(editDistance([11, 9, 20, 20, 5, 14], [19, 9, 20, 20, 9, 14, 7])).toBe(3);
  });

  it("is the distance over the phonemes (no <bos>, </eos>) ÷ the reference's length", () => {
    expect(phonemeErrorRate([1, 5, 6, 7, 8, 2], [1, 5, 6, 9, 8, 2])).toBe(0.25);
    expect(phonemeErrorRate([1, 5, 6, 2], [1, 2])).toBe(1);
    expect(phonemeErrorRate([1, 5, 2], [1, 5, 6, 7, 2])).toBe(2);
    expect(phonemeErrorRate([1, 2], [1, 2])).toBe(0);
    expect(phonemeErrorRate([1, 2], [1, 9, 2])).toBe(1);
  });
});
