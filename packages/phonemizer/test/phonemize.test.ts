import { execFileSync } from "node:child_process";
import { fixture } from "@tooling/config/fixtures";
import { beforeAll, describe, expect, it } from "vitest";
import { phonemize, phonemizeToIpa } from "../src/phonemize.js";
import { cleanEspeakOutput } from "../src/text/espeak-output.js";
import { loadTokenizer } from "../src/tokenizer/load.js";
import type { PhonemeTokenizer } from "../src/tokenizer/phoneme-tokenizer.js";

const tokenizerJson = fixture("vall-e", "tokenizer.json");

function espeakCli(voice: string, text: string): string | undefined {
  try {
    return execFileSync("espeak-ng", ["-q", "--ipa", "--sep=_", "-v", voice, text], { encoding: "utf8" });
  } catch {
    return undefined;
  }
}
const haveEspeakCli = espeakCli("en-us", "a") !== undefined;

describe.skipIf(!tokenizerJson.present)(`phonemize ${tokenizerJson.reason}`, () => {
  let tokenizer: PhonemeTokenizer;
  beforeAll(async () => {
    tokenizer = await loadTokenizer(tokenizerJson.path);
  });

  it("matches the reference on the spec's examples, phonemes and ids", async () => {
    const hello = await phonemize("Hello world.", { language: "en", tokenizer });
    expect(hello).toMatchObject({
      format: "vall-e.phonemes/1",
      text: "Hello world.",
      language: "en",
      voice: "en-us",
      ipa: "həlˈoʊ wˈɜːld.",
      tokens: [1, 22, 111, 100, 4, 37, 115, 169, 11, 2],
    });
    const once = await phonemize("Once again, excellent work.", { language: "en", tokenizer });
    expect(once.ipa).toBe("wˈʌns ɐɡˈɛn, ˈɛksələnt wˈɜːk.");
    expect(once.tokens).toEqual([1, 211, 33, 4, 48, 57, 123, 9, 4, 83, 171, 111, 139, 4, 37, 115, 25, 11, 2]);
    const fox = await phonemize("The quick brown fox", { language: "en", tokenizer });
    expect(fox.ipa).toBe("ðə kwˈɪk bɹˈaʊn fˈɑːks");
    expect(fox.tokens).toEqual([1, 90, 4, 241, 87, 25, 4, 203, 121, 28, 4, 21, 102, 171, 2]);
  });

  it("keeps every clause and every punctuation mark of a paragraph", async () => {
    const text = "Hello, world! How are you? I'm fine; thanks: really... (Truly.) «Oui» — ¿Sí?";
    const { ipa } = await phonemizeToIpa(text, { language: "en" });
    expect(ipa).toBe("həlˈoʊ, wˈɜːld! hˈaʊ ɑːɹ juː? aɪm fˈaɪn; θˈæŋks: ɹˈiəli... (tɹˈuːli.) «wˈiː» — ¿ʃˈiː?");
    const marks = (s: string) => s.replace(/[^;:,.!?¡¿—…"«»“”(){}[\]]/g, "");
    expect(marks(ipa)).toBe(marks(text));
  });

  it("keeps a newline inside a punctuation group, as <unk> (0), like the reference", async () => {
    const artifact = await phonemize("First line.\nSecond line.", { language: "en", tokenizer });
    expect(artifact.ipa).toBe("fˈɜːst lˈaɪn.\nsˈɛkənd lˈaɪn.");
    const dot = artifact.tokens.indexOf(11);
    expect(artifact.tokens.slice(dot, dot + 2)).toEqual([11, 0]);
    // Newlines at the ends of the text are stripped, as phonemizer strips line separators.
    expect((await phonemizeToIpa("\nFirst line.\n", { language: "en" })).ipa).toBe("fˈɜːst lˈaɪn.");
  });

  it("gives the ids of the ipa for every language", async () => {
    for (const [text, language] of [
      ["Bonjour le monde, comment ça va ?", "fr"],
      ["Guten Morgen, wie geht's?", "de"],
      ["今日はいい天気ですね。", "ja"],
      ["你好，世界。", "zh"],
      ["안녕하세요, 세계.", "ko"],
    ] as const) {
      const artifact = await phonemize(text, { language, tokenizer });
      expect(artifact.language).toBe(language);
      expect(artifact.tokens).toEqual(tokenizer.encode(artifact.ipa));
    }
  });

  it("detects the language with auto, and lets any espeak-ng voice phonemise", async () => {
    expect(await phonemizeToIpa("Bonjour tout le monde, comment allez-vous ?")).toMatchObject({
      language: "fr",
      voice: "fr-fr",
    });
    expect(await phonemizeToIpa("今日はいい天気ですね。", { language: "auto" })).toMatchObject({
      language: "ja",
      voice: "ja",
    });
    // Spanish has no language token: English's, with espeak-ng's Spanish voice.
    expect(await phonemizeToIpa("Hola, ¿cómo estás? Muy bien, gracias.")).toEqual({
      ipa: "ˈola, ¿kˈomo estˈas? mˈuj βjˈen, ɡɾˈaθjas.",
      language: "en",
      voice: "es",
    });
    expect(await phonemizeToIpa("Hello", { language: "en", voice: "en-gb-x-rp" })).toMatchObject({
      voice: "en-gb-x-rp",
    });
  });

  it("remaps Mandarin tone digits to the vocabulary's tone marks", async () => {
    const { ipa } = await phonemizeToIpa("世界", { language: "zh" });
    expect(ipa).toBe("s.ˈi._ tɕˈiɛ_");
  });

  it("rejects bad input with exact messages", async () => {
    await expect(phonemize("", { tokenizer })).rejects.toThrow('Expected non-empty text for text, got ""');
    await expect(phonemize("   ", { tokenizer })).rejects.toThrow('Expected non-empty text for text, got "   "');
    await expect(phonemize("...!?", { language: "en", tokenizer })).rejects.toThrow(
      'Expected text with something to pronounce for text, got "...!?"',
    );
    await expect(phonemize("hello", { language: "xx" as "en", tokenizer })).rejects.toThrow(
      'Expected one of "auto", "en", "ja", "de", "fr", "zh", "ko" for language, got "xx"',
    );
    await expect(phonemize("hello", { language: "en", voice: "xx-yy", tokenizer })).rejects.toThrow(
      'Expected an espeak-ng language (see `espeak-ng --voices`) for voice, got "xx-yy"',
    );
    await expect(phonemize("a\u0007b", { tokenizer })).rejects.toThrow(
      "Expected text without control characters for text, got U+0007 at offset 1",
    );
    await expect(phonemize("a\udc00b", { tokenizer })).rejects.toThrow(
      "Expected text without lone surrogates for text, got U+DC00 at offset 1",
    );
    await expect(phonemize("hello", {} as { tokenizer: PhonemeTokenizer })).rejects.toThrow(
      "Expected a PhonemeTokenizer (from loadTokenizer()) for tokenizer, got nothing",
    );
    await expect(phonemize("hello", { tokenizer, signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: "ERR_CANCELLED",
    });
  });

  it("phonemizes a 200,000-character text without holding the event loop", async () => {
    const sentence = "The old lighthouse keeper counted the ships, one by one, until the fog rolled in. ";
    const text = sentence.repeat(Math.ceil(200_000 / sentence.length)).slice(0, 200_000);
    let longestGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 2);
    const artifact = await phonemize(text, { language: "en", tokenizer });
    clearInterval(timer);
    const single = await phonemize(sentence.trim(), { language: "en", tokenizer });
    // Every sentence phonemised, none lost or merged.
    expect(artifact.ipa.split(single.ipa).length - 1).toBeGreaterThanOrEqual(2400);
    expect(artifact.tokens.length).toBeGreaterThan(100_000);
    // The main thread stayed responsive (native work runs on a worker thread; tokenizing yields).
    expect(longestGap).toBeLessThan(250);
  });
});

describe.skipIf(!haveEspeakCli)("espeak-ng agreement (where the reference adds nothing)", () => {
  // espeak-ng's command line shares the library's phoneme tables; with --sep=_ it prints what
  // espeak_TextToPhonemes gives, before the reference's clean-up. (Its synthesis path also applies Mandarin
  // tone sandhi and final destressing, which the library call does not: the Mandarin words below have neither.)
  for (const [language, voice, text] of [
    ["en", "en-us", "Hello world"],
    ["fr", "fr-fr", "Bonjour le monde"],
    ["de", "de", "Guten Morgen"],
    ["ja", "ja", "きょうはいいてんきですね"],
    ["zh", "cmn-latn-pinyin", "世界 中国 谢谢"],
    ["ko", "ko", "안녕하세요 세계"],
  ] as const) {
    it(`${language} (${voice})`, async () => {
      let expected = cleanEspeakOutput(espeakCli(voice, text) as string);
      if (language === "zh")
        expected = expected.replace(/[1-5]/g, (d) => ({ 1: "ˇ", 2: "ˉ", 3: "ˊ", 4: "ˋ", 5: "_" })[d] as string);
      expect((await phonemizeToIpa(text, { language })).ipa).toBe(expected);
    });
  }
});
