/**
 * Decoder benchmark: Vocos decode against EnCodec's decoder (f32), side by side in one run, on full-size random
 * weights (same shapes as the published models; speed does not depend on the values), 2 threads, 10 s and 60 s of
 * seeded random 8-codebook codes (750 / 4500 frames). Target: Vocos' decode time ≤ 0.6× EnCodec's.
 *   - time: best of 5 runs after a warm-up, the decoders interleaved; × real time = audio s / wall s. For Vocos
 *     also `compute(codes, "backbone")` (features + ConvNeXt backbone, no head/iSTFT), to show where its time goes.
 *   - memory: each (decoder, length) in a fresh `node` child on the built dist (bench/decode-peak.mjs) that loads,
 *     decodes once and reports its RSS after loading, the decode's own peak and its maxRSS. Vocos decodes in chunks of
 *     750 frames, EnCodec in chunks of 375, so neither peak may grow with the length.
 * The weights are written by a child into a temporary folder that is removed at the end. Run on its own with
 * `pnpm exec tsx bench/decoders.ts`; `pnpm bench` runs it after bench/run.ts's EnCodec cases.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type BenchRow, report, timeRuns } from "@tooling/bench";
import { Codec, seededRandom, Vocos } from "../src/index.js";

const THREADS = 2;
const LENGTHS = [10, 60] as const; // seconds; 75 frames each
const RUNS = 5;
const childScript = join(dirname(fileURLToPath(import.meta.url)), "decode-peak.mjs");

interface Peak {
  rssAfterLoadMB: number;
  decodePeakMB: number;
  decodeGrowthMB: number;
  maxRssMB: number;
}

async function child(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", childScript, ...args], {
    encoding: "utf8",
  });
  return stdout;
}

function randomCodes(frames: number): Int16Array {
  const random = seededRandom(7);
  return Int16Array.from({ length: 8 * frames }, () => Math.floor(random() * 1024));
}

const best = (seconds: number[]) => Math.min(...seconds);
const dir = mkdtempSync(join(tmpdir(), "vall-e-codec-bench-"));
const removeDir = () => rmSync(dir, { recursive: true, force: true });
process.once("SIGINT", () => {
  removeDir();
  process.exit(130);
});
const rows: BenchRow[] = [];
try {
  const weights = { encodec: join(dir, "encodec.bin"), vocos: join(dir, "vocos", "pytorch_model.bin") };
  await child(["write", dir]);

  // Memory first, while this process is small: a child's maxRSS also counts its parent's RSS at fork time.
  const ownPeakMB = process.resourceUsage().maxRSS / 1024;
  const peaks = new Map<string, Peak>();
  for (const decoder of ["encodec", "vocos"] as const) {
    for (const seconds of LENGTHS) {
      const peak = JSON.parse(await child([decoder, weights[decoder], String(seconds * 75), String(THREADS)])) as Peak;
      if (peak.maxRssMB <= ownPeakMB + 1)
        process.stderr.write(
          `note: ${decoder} ${seconds} s maxRSS may be this process's (${ownPeakMB.toFixed(0)} MB)\n`,
        );
      peaks.set(`${decoder} ${seconds}`, peak);
    }
  }

  await using encodec = await Codec.load(weights.encodec, { threads: THREADS });
  await using vocos = await Vocos.load(weights.vocos, { threads: THREADS });
  for (const seconds of LENGTHS) {
    const codes = { codes: randomCodes(seconds * 75), codebooks: 8 };
    const cases = {
      encodec: () => encodec.decode(codes),
      vocos: () => vocos.decode(codes),
      vocosBackbone: () => vocos.compute(codes, "backbone"),
    };
    const times: Record<keyof typeof cases, number[]> = { encodec: [], vocos: [], vocosBackbone: [] };
    for (const run of Object.values(cases)) await run(); // warm-up
    for (let i = 0; i < RUNS; i++)
      for (const [name, run] of Object.entries(cases))
        times[name as keyof typeof cases].push(...(await timeRuns(run, 1, 0)));
    const encodecS = best(times.encodec);
    const vocosS = best(times.vocos);
    const memory = (peak: Peak) => ({
      rssAfterLoadMB: peak.rssAfterLoadMB,
      decodePeakMB: peak.decodePeakMB,
      decodeGrowthMB: peak.decodeGrowthMB,
      maxRssMB: peak.maxRssMB,
    });
    const params = { seconds, frames: seconds * 75, codebooks: 8, threads: THREADS };
    rows.push({
      name: `encodec f32 ${seconds} s`,
      params: { decoder: "encodec", type: "f32", chunkFrames: 375, ...params },
      metrics: {
        decodeS: encodecS,
        timesRealtime: seconds / encodecS,
        ...memory(peaks.get(`encodec ${seconds}`) as Peak),
      },
    });
    rows.push({
      name: `vocos ${seconds} s`,
      params: { decoder: "vocos", type: "f32", chunkFrames: 750, ...params },
      metrics: {
        decodeS: vocosS,
        timesRealtime: seconds / vocosS,
        ...memory(peaks.get(`vocos ${seconds}`) as Peak),
        vocosOverEncodecTime: vocosS / encodecS,
        backboneS: best(times.vocosBackbone),
      },
    });
  }
} finally {
  removeDir();
}

report("codec-decoders", rows, {
  target: "Vocos decode time ≤ 0.6× EnCodec's (vocosOverEncodecTime); decode peak RSS independent of length",
  threads: THREADS,
  timing: `best of ${RUNS} after a warm-up, interleaved; backboneS = Vocos features + backbone only`,
  memory:
    "fresh node child per row: rssAfterLoadMB after load + GC, decodePeakMB = VmHWM reset just before the decode, maxRssMB = process.resourceUsage().maxRSS",
});
