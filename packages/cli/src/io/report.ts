/**
 * The evaluation report: one HTML page (no script, no external resources) with each utterance's audio player, its
 * spectrogram and code map as PNG images (pngjs), and the figures. Images are made here from the audio and the codes.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PNG } from "pngjs";

/** A grey-to-colour ramp for a value in [0, 1] (dark blue → green → yellow). */
function ramp(v: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, v));
  return [
    Math.round(255 * Math.min(1, Math.max(0, 1.5 * x - 0.3))),
    Math.round(255 * Math.min(1, 1.4 * x)),
    Math.round(255 * (0.45 - 0.45 * x + 0.2)),
  ];
}

function png(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const image = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      const i = (y * width + x) * 4;
      image.data[i] = r;
      image.data[i + 1] = g;
      image.data[i + 2] = b;
      image.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(image);
}

/** Log-magnitude spectrogram: 512-point Hann-windowed DFT frames (hop 256), low frequencies at the bottom. */
export function spectrogramPng(samples: Float32Array, bins = 128): Buffer {
  const size = 512;
  const hop = 256;
  const frames = Math.max(1, Math.floor((samples.length - size) / hop) + 1);
  const window = Float64Array.from({ length: size }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / (size - 1)));
  const magnitudes = new Float64Array(frames * bins);
  let peak = -Infinity;
  for (let f = 0; f < frames; f++) {
    for (let k = 0; k < bins; k++) {
      // bins evenly over 0 … Nyquist/2 (speech lives in the lower half)
      const w = (Math.PI * k) / bins / 2;
      let re = 0;
      let im = 0;
      for (let n = 0; n < size; n++) {
        const x = (samples[f * hop + n] ?? 0) * (window[n] as number);
        re += x * Math.cos(w * 2 * n);
        im -= x * Math.sin(w * 2 * n);
      }
      const db = 10 * Math.log10(re * re + im * im + 1e-12);
      magnitudes[f * bins + k] = db;
      peak = Math.max(peak, db);
    }
  }
  return png(frames, bins, (x, y) => ramp(((magnitudes[x * bins + (bins - 1 - y)] as number) - (peak - 80)) / 80));
}

/** The codes as an image: one row per codebook (level 0 at the top, 4 pixels high), one column per frame. */
export function codeMapPng(codes: Int16Array, codebooks: number): Buffer {
  const frames = codes.length / codebooks;
  return png(frames, codebooks * 4, (x, y) => ramp((codes[Math.floor(y / 4) * frames + x] as number) / 1023));
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

export interface ReportItem {
  index: number;
  text: string;
  reference: string;
  transcript: string;
  phonemeErrorRate: number;
  seconds: number;
  realTimeFactor: number;
  timings: Record<string, number>;
  /** Files beside index.html. */
  wav: string;
  spectrogram: string;
  codeMap: string;
}

export async function writeReportPage(
  dir: string,
  items: readonly ReportItem[],
  summary: { items: number; meanPhonemeErrorRate: number; totalSeconds: number; meanRealTimeFactor: number },
): Promise<string> {
  const rows = items
    .map(
      (item) => `<section class="item">
  <h2>${item.index + 1}. ${escapeHtml(item.text)}</h2>
  <audio controls preload="metadata" src="${escapeHtml(item.wav)}" aria-label="utterance ${item.index + 1}"></audio>
  <dl>
    <dt>phonemes of the text</dt><dd lang="und">${escapeHtml(item.reference)}</dd>
    <dt>heard by the model</dt><dd lang="und">${escapeHtml(item.transcript)}</dd>
    <dt>phoneme error rate</dt><dd>${item.phonemeErrorRate.toFixed(3)}</dd>
    <dt>duration</dt><dd>${item.seconds.toFixed(2)} s (real-time factor ${item.realTimeFactor.toFixed(2)})</dd>
    <dt>stages</dt><dd>${Object.entries(item.timings)
      .map(([stage, s]) => `${escapeHtml(stage)} ${s.toFixed(2)} s`)
      .join(", ")}</dd>
  </dl>
  <figure><img src="${escapeHtml(item.spectrogram)}" alt="spectrogram of utterance ${item.index + 1}"><figcaption>spectrogram</figcaption></figure>
  <figure><img src="${escapeHtml(item.codeMap)}" alt="codes of utterance ${item.index + 1}, one row per level"><figcaption>codes (levels 0–7)</figcaption></figure>
</section>`,
    )
    .join("\n");
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>vall-e eval</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
.item { border-top: 1px solid #ccc; padding: 1rem 0; }
dl { display: grid; grid-template-columns: 12rem 1fr; gap: .2rem 1rem; }
dt { color: #555; }
img { image-rendering: pixelated; max-width: 100%; height: 8rem; width: 100%; object-fit: fill; border: 1px solid #ddd; }
figure { margin: .5rem 0; }
</style>
</head>
<body>
<h1>Round-trip evaluation</h1>
<p>${summary.items} utterance(s), ${summary.totalSeconds.toFixed(2)} s of audio; mean phoneme error rate
<strong>${summary.meanPhonemeErrorRate.toFixed(3)}</strong> (the model transcribing its own speech, against the text's
phonemes); mean real-time factor ${summary.meanRealTimeFactor.toFixed(2)}. Word error rate and speaker similarity
are not measured: they need models this project does not ship.</p>
${rows}
</body>
</html>
`;
  const path = join(dir, "index.html");
  await writeFile(path, html);
  return path;
}
