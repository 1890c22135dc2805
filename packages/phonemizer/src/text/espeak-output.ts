/**
 * The reference's clean-up of espeak-ng's raw output for one chunk (phonemizer 3.x EspeakBackend._postprocess_line
 * with separator phone '', word ' ', strip=True, stress kept, no tie, language-switch flags kept).
 */
import { pyStrip } from "./python-whitespace.js";

export function cleanEspeakOutput(raw: string): string {
  // espeak can split an utterance over lines; single pass of '  ' → ' ' as Python's str.replace does.
  let line = pyStrip(raw).replaceAll("\n", " ").replaceAll("  ", " ");
  // espeak-ng can leave extra separators at word ends.
  line = line.replace(/_+/g, "_").replace(/_ /g, " ");
  if (!line) return "";
  return line
    .split(" ")
    .map((word) => pyStrip(word).replaceAll("_", ""))
    .join(" ");
}
