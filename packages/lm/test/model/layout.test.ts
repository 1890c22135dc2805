import { describe, expect, it } from "vitest";
import { KNOWN_LAYOUT, type RowRange, SPECIAL_ROWS } from "../../src/model/layout.js";

describe("KNOWN_LAYOUT", () => {
  it("tiles the 17702-row vocabulary in export order without gaps", () => {
    const ordered: RowRange[] = [
      KNOWN_LAYOUT.text,
      KNOWN_LAYOUT.rvqLevel,
      KNOWN_LAYOUT.lang,
      KNOWN_LAYOUT.task,
      KNOWN_LAYOUT.len,
      KNOWN_LAYOUT.tone,
      KNOWN_LAYOUT.sep,
      ...KNOWN_LAYOUT.prom,
      KNOWN_LAYOUT.ar,
      ...KNOWN_LAYOUT.nar,
      KNOWN_LAYOUT.narLen,
    ];
    let next = 0;
    for (const { start, end } of ordered) {
      expect(start).toBe(next);
      next = end;
    }
    expect(next).toBe(KNOWN_LAYOUT.vocabularySize);
  });

  it("puts the special rows where the spec says", () => {
    expect(SPECIAL_ROWS).toEqual({ arStop: 9508, narLenMask: 17701, lenStop: 289, sep: 291 });
    expect(KNOWN_LAYOUT.prom[7]).toEqual({ start: 7460, end: 8484 });
    expect(KNOWN_LAYOUT.nar[6]).toEqual({ start: 15653, end: 16677 });
  });
});
