/**
 * Codec benchmark: EnCodec encode and decode real-time factor (seconds of compute per second of audio) at the
 * default thread count, for 10 s, 60 s and 120 s of audio, with f32 and f16 weights, and the process's peak RSS after each
 * — memory must not grow with the audio length (chunked processing). Target: decode ≥ 20× faster than real time.
 * Uses the random-weight EnCodec files from ../shared/fixtures/encodec (same shapes as the real model).
 * Then bench/decoders.ts (Vocos against EnCodec's decoder), in a process of its own.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type BenchRow, median, report, timeRuns } from "@tooling/bench";
import { fixture } from "@tooling/config/fixtures";
import { systemInfo } from "@vall-e/native";
import { Codec } from "../src/index.js";

const rows: BenchRow[] = [];
const weights = fixture("encodec");
if (!weights.present) process.stderr.write(`codec benchmark ${weights.reason}\n`);

for (const type of weights.present ? (["f32", "f16"] as const) : []) {
  await using codec = await Codec.load(`${weights.path}/encodec_random_${type}.bin`);
  for (const seconds of [10, 60, 120]) {
    const samples = Float32Array.from(
      { length: seconds * 24000 },
      (_, i) => 0.3 * Math.sin(i / 13) * Math.sin(i / 4000),
    );
    let codes: Int16Array = new Int16Array(0);
    const encode = median(
      await timeRuns(
        async () => {
          codes = await codec.encode(samples);
        },
        seconds > 10 ? 1 : 3,
      ),
    );
    const rssEncode = process.resourceUsage().maxRSS / 1024;
    const decode = median(await timeRuns(() => codec.decode({ codes, codebooks: 8 }), seconds > 10 ? 1 : 3));
    const rssDecode = process.resourceUsage().maxRSS / 1024;
    rows.push({
      name: `encodec ${type} ${seconds} s`,
      params: { type, seconds, threads: systemInfo().defaultThreads },
      metrics: {
        encodeRtf: encode / seconds,
        decodeRtf: decode / seconds,
        decodeTimesRealtime: seconds / decode,
        peakRssMBAfterEncode: rssEncode,
        peakRssMBAfterDecode: rssDecode,
      },
    });
  }
}

if (weights.present) report("codec", rows, { target: "decode ≥ 20× real time; peak RSS independent of length" });

// A fresh process, so that the RSS of its children is not inflated by this one's (a child's maxRSS counts its
// parent's RSS at fork time).
const decodersScript = fileURLToPath(new URL("decoders.ts", import.meta.url));
const decoders = spawnSync(process.execPath, [...process.execArgv, decodersScript], { stdio: "inherit" });
if (decoders.status !== 0) throw new Error(`bench/decoders.ts failed (exit ${decoders.status ?? decoders.signal})`);
