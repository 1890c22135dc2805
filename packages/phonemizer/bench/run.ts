/**
 * Phonemizer benchmark: English prose through the whole front-end (espeak-ng + the reference's punctuation
 * handling + tokenizer) at two sizes (their ratio shows the cost is linear in the text), and the tokenizer alone.
 * Run with `pnpm bench` (or `pnpm --filter @vall-e/phonemizer bench`).
 */
import { type BenchRow, median, report, timeRuns } from "@tooling/bench";
import { fixture } from "@tooling/config/fixtures";
import { loadTokenizer, phonemize, phonemizeToIpa } from "../src/index.js";

const PROSE =
  "The old lighthouse keeper climbed the spiral stairs every evening, just before sunset. He lit the great lamp, " +
  "wound the clockwork, and watched the ships pass: fishing boats, ferries, and now and then a tall cargo vessel " +
  "heading north! Was he lonely? Perhaps; but he never said so. ";
const rows: BenchRow[] = [];
const tokenizerFile = fixture("vall-e", "tokenizer.json");
const tokenizer = tokenizerFile.present ? await loadTokenizer(tokenizerFile.path) : undefined;
if (!tokenizer) process.stderr.write(`tokenizer rows ${tokenizerFile.reason}\n`);

for (const size of [20_000, 200_000]) {
  const text = PROSE.repeat(Math.ceil(size / PROSE.length)).slice(0, size);
  let phonemes = 0;
  const seconds = median(
    await timeRuns(async () => {
      const { ipa } = tokenizer
        ? await phonemize(text, { language: "en", tokenizer })
        : await phonemizeToIpa(text, { language: "en" });
      phonemes = [...ipa].length;
    }, 3),
  );
  rows.push({
    name: `phonemize English prose, ${size / 1000}k chars${tokenizer ? " (+ tokenize)" : ""}`,
    params: { characters: size },
    metrics: { ms: seconds * 1e3, charsPerSecond: size / seconds, phonemesPerSecond: phonemes / seconds },
  });
}

if (tokenizer) {
  const { ipa } = await phonemizeToIpa(PROSE.repeat(800), { language: "en" });
  const symbols = [...ipa].length;
  const seconds = median(await timeRuns(async () => tokenizer.encode(ipa), 5));
  rows.push({
    name: `tokenize ${Math.round(symbols / 1000)}k phonemes`,
    params: { phonemes: symbols },
    metrics: {
      ms: seconds * 1e3,
      phonemesPerSecond: symbols / seconds,
      tokensPerSecond: tokenizer.encode(ipa).length / seconds,
    },
  });
}

report("phonemizer", rows);
