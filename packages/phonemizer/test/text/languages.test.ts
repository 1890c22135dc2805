import { describe, expect, it } from "vitest";
import { katakanaToHiragana, toHiragana } from "../../src/text/japanese.js";
import { detectLanguage, espeakLanguageFor, languageId } from "../../src/text/languages.js";
import { splitSentences } from "../../src/text/sentences.js";
import { validateText } from "../../src/text/validate-text.js";

describe("languages", () => {
  it("coerces languages to espeak-ng voices as the reference does", () => {
    expect(["en", "fr", "zh", "zh-cn", "ja", "de", "ko", "es"].map(espeakLanguageFor)).toEqual([
      "en-us",
      "fr-fr",
      "cmn-latn-pinyin",
      "cmn-latn-pinyin",
      "ja",
      "de",
      "ko",
      "es",
    ]);
    expect(languageId("en")).toBe(0);
    expect(languageId("ko")).toBe(5);
  });

  it("detects the language of a text", () => {
    expect(detectLanguage("Bonjour tout le monde, comment allez-vous ?")).toBe("fr");
    expect(detectLanguage("Guten Morgen, wie geht es dir heute?")).toBe("de");
    expect(detectLanguage("今日はいい天気ですね。")).toBe("ja");
    expect(detectLanguage("你好，世界。今天天气很好。")).toBe("zh");
    expect(detectLanguage("안녕하세요 세계")).toBe("ko");
    expect(detectLanguage("ok")).toBeUndefined();
  });
});

describe("Japanese", () => {
  it("reads kanji as hiragana and maps katakana to hiragana", async () => {
    expect(await toHiragana("今日はいい天気ですね。")).toBe("きょうはいいてんきですね。");
    expect(katakanaToHiragana("スーパー、カタカナ ABC")).toBe("すーぱー、かたかな ABC");
  });
});

describe("splitSentences", () => {
  it("splits at sentence ends and keeps each sentence's punctuation", () => {
    expect(splitSentences("Hello there. How are you?  I'm fine!\nGood.")).toEqual([
      "Hello there.",
      "How are you?",
      "I'm fine!",
      "Good.",
    ]);
    expect(splitSentences("今日は晴れ。明日は雨です。", "ja")).toEqual(["今日は晴れ。", "明日は雨です。"]);
  });

  it("keeps titles, initials, abbreviations and decimals inside the sentence (as punkt does)", () => {
    const corpus: [string, "en" | "de" | "fr", string[]][] = [
      [
        "Dr. Smith lives on St. James St. at 5 p.m. It was 3.5 degrees.",
        "en",
        ["Dr. Smith lives on St. James St. at 5 p.m.", "It was 3.5 degrees."],
      ],
      [
        "Mr. and Mrs. Jones met J. R. R. Tolkien, e.g. in the U.S. today. Then they left.",
        "en",
        ["Mr. and Mrs. Jones met J. R. R. Tolkien, e.g. in the U.S. today.", "Then they left."],
      ],
      [
        "I saw it, i.e. the thing. It costs $3.50. That is cheap.",
        "en",
        ["I saw it, i.e. the thing.", "It costs $3.50.", "That is cheap."],
      ],
      [
        "Herr Dr. Müller kommt z. B. morgen. Das ist gut.",
        "de",
        ["Herr Dr. Müller kommt z. B. morgen.", "Das ist gut."],
      ],
      [
        "M. Dupont est arrivé à 3 h. Mme. Durand aussi. Il fait beau.",
        "fr",
        ["M. Dupont est arrivé à 3 h.", "Mme. Durand aussi.", "Il fait beau."],
      ],
    ];
    for (const [text, language, sentences] of corpus) expect(splitSentences(text, language)).toEqual(sentences);
  });

  it("does not split inside quoted speech", () => {
    expect(splitSentences('He said "Stop. Now." Then he left.')).toEqual(['He said "Stop. Now."', "Then he left."]);
    expect(splitSentences("She wrote “Yes. No.” and smiled. Done.")).toEqual([
      "She wrote “Yes. No.” and smiled.",
      "Done.",
    ]);
  });

  it("returns nothing for blank text and rejects unknown languages", () => {
    expect(splitSentences("   ")).toEqual([]);
    expect(() => splitSentences("a", "xx" as "en")).toThrow(
      'Expected one of "en", "ja", "de", "fr", "zh", "ko" for language, got "xx"',
    );
  });
});

describe("validateText", () => {
  it("rejects what espeak-ng must never see, with exact messages", () => {
    expect(() => validateText("")).toThrow('Expected non-empty text for text, got ""');
    expect(() => validateText(" \n\t ")).toThrow('Expected non-empty text for text, got " \\n\\t "');
    expect(() => validateText("a\u0007b")).toThrow(
      "Expected text without control characters for text, got U+0007 at offset 1",
    );
    expect(() => validateText("a\u0000")).toThrow(
      "Expected text without control characters for text, got U+0000 at offset 1",
    );
    expect(() => validateText("a\ud800b")).toThrow(
      "Expected text without lone surrogates for text, got U+D800 at offset 1",
    );
    expect(() => validateText(42)).toThrow("Expected a string for text, got 42");
    expect(validateText("tab\tand\r\nlines")).toBe("tab\tand\r\nlines");
    expect(validateText("emoji 😀")).toBe("emoji 😀");
  });
});
