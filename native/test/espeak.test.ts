import { describe, expect, it } from "vitest";
import { binding } from "../lib/binding.js";
import { espeakInfo, espeakTextToPhonemes } from "../lib/index.js";

describe("espeak-ng binding", () => {
  it("reports its version and languages", async () => {
    const info = await espeakInfo();
    expect(info.version).toMatch(/^\d+\.\d+/);
    expect(info.languages.get("en-us")).toBe("gmw/en-US");
    expect(info.languages.get("cmn-latn-pinyin")).toBeDefined();
  });

  it("phonemises every clause, not only the first", async () => {
    const [ipa] = await espeakTextToPhonemes("en-us", ["Once again, excellent work."]);
    // The seed port called espeak_TextToPhonemes once and lost everything after the comma.
    expect(ipa).toBe("w_ˈʌ_n_s ɐ_ɡ_ˈɛ_n ˈɛ_k_s_ə_l_ə_n_t w_ˈɜː_k");
  });

  it("serialises concurrent calls from several languages", async () => {
    const results = await Promise.all([
      espeakTextToPhonemes("en-us", ["Hello world"]),
      espeakTextToPhonemes("de", ["Guten Morgen"]),
      espeakTextToPhonemes("en-us", ["Hello world"]),
      espeakTextToPhonemes("fr-fr", ["Bonjour"]),
    ]);
    expect(results[0]).toEqual(results[2]);
    expect(results[1]?.[0]).toBe("ɡ_ˈuː_t_ə_n m_ˈɔ_ɾ_ɡ_ə_n");
  });

  it("rejects unknown languages and NUL characters, in TypeScript and in C++", async () => {
    await expect(espeakTextToPhonemes("xx", ["a"])).rejects.toThrow(
      'Expected an espeak-ng language (see `espeak-ng --voices`) for voice, got "xx"',
    );
    await expect(espeakTextToPhonemes("en-us", ["a\0b"])).rejects.toThrow(
      'Expected strings without NUL characters for texts, got "a\\u0000b"',
    );
    const raw = binding();
    await expect(raw.espeakTextToPhonemes("xx", ["a"])).rejects.toMatchObject({
      code: "VALL_E_ERR_INVALID_ARGUMENT",
      message: 'espeak-ng has no voice for the language "xx"',
    });
    expect(() => raw.espeakTextToPhonemes("en-us", ["a\0b"])).toThrow("Expected no NUL character in texts[i]");
  });
});
