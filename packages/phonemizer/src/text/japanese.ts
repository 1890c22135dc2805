/**
 * Japanese text is read as hiragana before espeak-ng's `ja` voice sees it (the reference converts with pykakasi,
 * `vall_e/emb/g2p.py` `encode`): kanji get their dictionary reading (kuroshiro with the kuromoji analyzer), and
 * katakana is mapped to hiragana code point by code point, as pykakasi's `hira` does (the prolonged sound mark ー
 * stays). The dictionary (about 40 MB on disk) loads on first use only.
 */
import Kuroshiro from "kuroshiro";
import KuromojiAnalyzer from "kuroshiro-analyzer-kuromoji";

interface KuroshiroInstance {
  init(analyzer: unknown): Promise<void>;
  convert(text: string, options: { to: "hiragana"; mode: "normal" }): Promise<string>;
}

type Constructor<T> = new () => T;

// Both packages are CommonJS with an ES-module-style default export.
function defaultExport<T>(module: unknown): T {
  const candidate = module as { default?: unknown };
  return (candidate.default ?? module) as T;
}

let converter: Promise<KuroshiroInstance> | undefined;

function kuroshiro(): Promise<KuroshiroInstance> {
  converter ??= (async () => {
    const instance = new (defaultExport<Constructor<KuroshiroInstance>>(Kuroshiro))();
    await instance.init(new (defaultExport<Constructor<unknown>>(KuromojiAnalyzer))());
    return instance;
  })();
  converter.catch(() => {
    converter = undefined;
  });
  return converter;
}

/** Katakana (U+30A1–U+30F6) to the hiragana 0x60 code points below; everything else unchanged. */
export function katakanaToHiragana(text: string): string {
  return text.replace(/[\u30a1-\u30f6]/g, (char) => String.fromCharCode(char.charCodeAt(0) - 0x60));
}

/** The text with kanji replaced by their reading and katakana by hiragana. */
export async function toHiragana(text: string): Promise<string> {
  const converted = await (await kuroshiro()).convert(text, { to: "hiragana", mode: "normal" });
  return katakanaToHiragana(converted);
}
