import { describe, expect, it } from "vitest";
import { preparePrompt } from "../../src/prompt/prepare.js";

describe("preparePrompt (as TTS.encode_audio repeats and trims)", () => {
  const a = [
    [1, 2, 3],
    [11, 12, 13],
  ];
  const b = [
    [4, 5],
    [14, 15],
  ];

  it("concatenates the references in time; 0 s keeps them as they are", () => {
    expect(preparePrompt([a, b], 0)).toEqual([
      [1, 2, 3, 4, 5],
      [11, 12, 13, 14, 15],
    ]);
  });

  it("loops a short prompt and keeps the start of a long one, to ⌊75 · seconds⌋ frames", () => {
    // 0.1 s → 7 frames: 1 2 3 4 5 then 1 2 again
    expect(preparePrompt([a, b], 0.1)).toEqual([
      [1, 2, 3, 4, 5, 1, 2],
      [11, 12, 13, 14, 15, 11, 12],
    ]);
    // 3 s of a 300-frame prompt → its first 225 frames
    const long = [Array.from({ length: 300 }, (_, i) => i)];
    expect(preparePrompt([long], 3)).toEqual([Array.from({ length: 225 }, (_, i) => i)]);
  });

  it("no reference, no prompt; mismatched references are errors", () => {
    expect(preparePrompt([], 3)).toEqual([]);
    expect(() => preparePrompt([a, [[1]]], 3)).toThrow(
      'Expected 2 codebooks like references[0] for references[1], got "1 codebooks"',
    );
    expect(() => preparePrompt([[[1, 2], [3]]], 3)).toThrow(
      "Expected 2 frames at every level for references[0][1], got 1",
    );
    expect(() => preparePrompt([a], -1)).toThrow(
      "Expected seconds from 0 to 600 (0: the references as they are) for promptSeconds, got -1",
    );
  });
});
