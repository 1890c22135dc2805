import { describe, expect, it } from "vitest";
import { cleanEspeakOutput } from "../../src/text/espeak-output.js";
import { preservePunctuation, restorePunctuation } from "../../src/text/punctuation.js";

describe("punctuation (phonemizer 3.x semantics)", () => {
  it("cuts marks out, with their surrounding spaces", () => {
    expect(preservePunctuation("hello, my world!")).toEqual({
      chunks: ["hello", "my world"],
      marks: [
        { mark: ", ", position: "I" },
        { mark: "!", position: "E" },
      ],
    });
    expect(preservePunctuation("¿Qué? No.")).toEqual({
      chunks: ["Qué", "No"],
      marks: [
        { mark: "¿", position: "B" },
        { mark: "? ", position: "I" },
        { mark: ".", position: "E" },
      ],
    });
    expect(preservePunctuation("no marks")).toEqual({ chunks: ["no marks"], marks: [] });
    expect(preservePunctuation(" ... ")).toEqual({ chunks: [], marks: [{ mark: " ... ", position: "A" }] });
    expect(preservePunctuation("(a) [b] {c}").marks.map((m) => m.mark)).toEqual(["(", ") [", "] {", "}"]);
  });

  it("puts marks back verbatim: only spaces are the word separator, a newline inside a mark stays", () => {
    const { chunks, marks } = preservePunctuation("hello ,\n world.");
    expect(marks[0]?.mark).toBe(" ,\n ");
    expect(
      restorePunctuation(
        chunks.map((c) => c.toUpperCase()),
        marks,
      ),
    ).toEqual(["HELLO ,\n WORLD."]);
    expect(restorePunctuation([], [{ mark: ".\t\n", position: "A" }])).toEqual([".\t\n"]);
    expect(restorePunctuation([], [{ mark: "?!", position: "A" }])).toEqual(["?!"]);
    const quoted = preservePunctuation('"Hi," she said.');
    expect(restorePunctuation(["hˈaɪ", "ʃiː sˈɛd"], quoted.marks)).toEqual(['"hˈaɪ," ʃiː sˈɛd.']);
  });

  it("keeps a mark whose chunk espeak-ng left empty", () => {
    const { marks } = preservePunctuation("a, - , b");
    expect(restorePunctuation(["ɐ", "", "bˈiː"], marks)).toEqual(["ɐ, , bˈiː"]);
  });

  it("is linear: 100,000 marks are processed without quadratic splitting", () => {
    const line = "a, ".repeat(100_000);
    const { chunks, marks } = preservePunctuation(line);
    expect(chunks).toHaveLength(100_000);
    expect(restorePunctuation(chunks, marks)).toEqual([line]); // the final mark keeps its trailing space
  });
});

describe("espeak-ng output clean-up", () => {
  it("removes phoneme separators and keeps stress", () => {
    expect(cleanEspeakOutput("h_ə_l_ˈoʊ w_ˈɜː_l_d")).toBe("həlˈoʊ wˈɜːld");
    expect(cleanEspeakOutput(" w_ˈʌ_n_s__ ɐ_ɡ_ˈɛ_n_\nˈɛ_k \n")).toBe("wˈʌns ɐɡˈɛn ˈɛk");
    expect(cleanEspeakOutput("")).toBe("");
  });
});
