/**
 * Run in a child process by devices.test.ts, with VALL_E_NATIVE_PATH set to a build with a GPU backend: the same
 * request with the same seed on an Engine on the CPU and one on `device` (the tiny random bundle), for each
 * modality. Prints one JSON line: per modality, the codes' shapes on both and the fraction of equal codes.
 *
 *   tsx agreement.ts <scratch dir> <device> [nar-len|ar+nar]
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { readCodes } from "@vall-e/codec";
import { Engine } from "../../src/engine/engine.js";
import { tinyBundle } from "../../src/models/tiny.js";

const [dir, device, only] = process.argv.slice(2) as [string, string, string?];

export interface GenerateAgreement {
  device: string;
  runs: { modality: string; shapes: [number, number][]; equal: number; firstFrameEqual: boolean }[];
}

const tiny = await tinyBundle(join(dir, "tiny"));
const models = { lm: tiny.lm, codec: tiny.codec, tokenizer: tiny.tokenizer, vocos: tiny.vocos };
const engines = [await Engine.load({ models, device: "cpu" }), await Engine.load({ models, device })];
const result: GenerateAgreement = { device: engines[1]?.device.spec ?? "", runs: [] };
for (const modality of (["nar-len", "ar+nar"] as const).filter((m) => only === undefined || m === only)) {
  const codes = [];
  for (const [i, engine] of engines.entries()) {
    const artifactsDir = join(dir, `${modality}-${i}`);
    await engine.synthesize({
      text: "Hello there.",
      language: "en",
      modality,
      seed: 7,
      maxDuration: 1,
      sampling: { maxSteps: 8 },
      artifactsDir,
    });
    const file = readdirSync(artifactsDir).find(
      (name) => /^\d+.*\.codes\.npy$/.test(name) && !name.startsWith("prompt"),
    );
    codes.push(await readCodes(join(artifactsDir, file as string)));
  }
  const [a, b] = codes as [Awaited<ReturnType<typeof readCodes>>, Awaited<ReturnType<typeof readCodes>>];
  let equal = 0;
  const n = Math.min(a.codes.length, b.codes.length);
  for (let i = 0; i < n; i++) if (a.codes[i] === b.codes[i]) equal++;
  let firstFrameEqual = true;
  for (let level = 0; level < Math.min(a.codebooks, b.codebooks); level++) {
    firstFrameEqual &&= a.codes[level * a.frames] === b.codes[level * b.frames];
  }
  result.runs.push({
    modality,
    shapes: [
      [a.codebooks, a.frames],
      [b.codebooks, b.frames],
    ],
    equal: equal / Math.max(a.codes.length, b.codes.length),
    firstFrameEqual,
  });
}
for (const engine of engines) await engine.dispose();
process.stdout.write(`${JSON.stringify(result)}\n`);
