/**
 * One child process of the decoder benchmark (bench/decoders.ts), run with plain node on the built dist so that its
 * memory is the decoder's and not the bench harness's. Two modes:
 *
 *   node decode-peak.mjs write <dir>
 *     writes full-size random weights: <dir>/encodec.bin (EnCodec 24 kHz, f32) and <dir>/vocos/pytorch_model.bin
 *     (+ config.yaml; VOCOS_ENCODEC_24KHZ). Done in a child so the parent never holds them in JS.
 *   node --expose-gc decode-peak.mjs <encodec|vocos> <weights> <frames> <threads>
 *     loads the weights, decodes `frames` frames of seeded random 8-codebook codes once, prints one JSON line.
 *
 * Peaks come from the kernel: `process.resourceUsage().maxRSS` (the whole process), and, on Linux, VmHWM from
 * /proc/self/status, reset to the current RSS just before the decode (`echo 5 > /proc/self/clear_refs`), which is
 * the decode's own peak however much the load took. maxRSS of a child also counts the parent's RSS at fork time, so
 * the bench spawns these children while its own process is still small.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const codec = await import(new URL("../dist/index.js", import.meta.url).href).catch((error) => {
  throw new Error(`bench/decode-peak.mjs needs the built package: run \`pnpm build\` first (${error.message})`);
});
const MB = 1024 * 1024;
const [mode, ...args] = process.argv.slice(2);

/** VmHWM (peak RSS of this address space) in MB, or undefined without /proc. */
function highWaterMB() {
  try {
    const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/** Reset VmHWM to the current RSS; false where the kernel does not offer it. */
function resetHighWater() {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

if (mode === "write") {
  const [dir] = args;
  writeFileSync(join(dir, "encodec.bin"), codec.randomEncodecBytes({ header: codec.ENCODEC_24KHZ_HEADER }));
  mkdirSync(join(dir, "vocos"), { recursive: true });
  await codec.writeRandomVocos(join(dir, "vocos", "pytorch_model.bin"), { config: codec.VOCOS_ENCODEC_24KHZ });
} else if (mode === "encodec" || mode === "vocos") {
  const [weights, framesArg, threadsArg] = args;
  const frames = Number(framesArg);
  const threads = Number(threadsArg);
  const loadStart = performance.now();
  const model =
    mode === "encodec" ? await codec.Codec.load(weights, { threads }) : await codec.Vocos.load(weights, { threads });
  const random = codec.seededRandom(7);
  const codes = Int16Array.from({ length: 8 * frames }, () => Math.floor(random() * 1024));
  const loadSeconds = (performance.now() - loadStart) / 1000;
  // Drop the loader's garbage (its freed buffers go back to the OS a moment later), so that the RSS after loading
  // is what the loaded model holds.
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const maxRssAfterLoadMB = process.resourceUsage().maxRSS / 1024;
  const rssAfterLoadMB = process.memoryUsage().rss / MB;
  const reset = resetHighWater();
  const decodeStart = performance.now();
  const audio = await model.decode({ codes, codebooks: 8 });
  const decodeSeconds = (performance.now() - decodeStart) / 1000;
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  const hwm = highWaterMB();
  const decodePeakMB = reset && hwm !== undefined ? hwm : maxRssMB; // without the reset: the whole process's peak
  const result = {
    decoder: mode,
    frames,
    samples: audio.length,
    loadSeconds,
    decodeSeconds,
    rssAfterLoadMB,
    decodePeakMB,
    decodeGrowthMB: decodePeakMB - rssAfterLoadMB,
    // maxRSS read before the reset (loading's peak) and after the decode (the decode's, where reset)
    maxRssMB: Math.max(maxRssAfterLoadMB, maxRssMB),
    rssAfterDecodeMB: process.memoryUsage().rss / MB,
  };
  await model.dispose();
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  throw new Error(`usage: decode-peak.mjs write <dir> | decode-peak.mjs <encodec|vocos> <weights> <frames> <threads>`);
}
