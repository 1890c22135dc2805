/**
 * Run in a child process by devices.test.ts, with VALL_E_NATIVE_PATH set to a build with a GPU backend: one check of
 * the codecs on the CPU and on `device`, in one process of that build. Prints one JSON line: the largest absolute
 * difference of the device's output from the CPU's, the largest CPU value, and (encode) the fraction of equal codes.
 *
 *   tsx agreement.ts <encodec fixture dir> <vocos fixture dir> <device> encodec-decode|encodec-encode|vocos-decode
 *
 * One check per process: lavapipe corrupts its own heap on some sequences of graphs in one process (see
 * packages/lm/test/devices/agreement.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseNpy } from "../../src/artifact/npy.js";
import { Codec } from "../../src/codec.js";
import { Vocos } from "../../src/vocos.js";

const [encodecDir, vocosDir, device, check] = process.argv.slice(2) as [string, string, string, string];

export interface CodecAgreement {
  check: string;
  device: string;
  deviceName: string;
  maxAbs: number;
  maxValue: number;
  /** encodec-encode: the fraction of codes that are equal. */
  equalCodes?: number;
}

function npy(path: string) {
  return parseNpy(new Uint8Array(readFileSync(path)), path);
}

function compare(cpu: Float32Array, other: Float32Array): { maxAbs: number; maxValue: number } {
  let maxAbs = cpu.length === other.length ? 0 : Number.POSITIVE_INFINITY;
  let maxValue = 0;
  for (let i = 0; i < cpu.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs((cpu[i] as number) - (other[i] as number)));
    maxValue = Math.max(maxValue, Math.abs(cpu[i] as number));
  }
  return { maxAbs, maxValue };
}

const codesNpy = (path: string) => {
  const array = npy(path);
  return { codes: Int16Array.from(array.data as ArrayLike<number>), codebooks: array.shape[0] as number };
};

let result: CodecAgreement;
if (check === "vocos-decode") {
  const weights = join(vocosDir, "vocos_random.pt");
  const codes = codesNpy(join(vocosDir, "random_codes_seed7.npy"));
  const [cpu, gpu] = [await Vocos.load(weights, { device: "cpu" }), await Vocos.load(weights, { device })];
  const [a, b] = [await cpu.decode(codes), await gpu.decode(codes)];
  result = { check, device: gpu.device.spec, deviceName: gpu.device.description, ...compare(a, b) };
  await cpu.dispose();
  await gpu.dispose();
} else {
  const weights = join(encodecDir, "encodec_random_f32.bin");
  const [cpu, gpu] = [await Codec.load(weights, { device: "cpu" }), await Codec.load(weights, { device })];
  if (check === "encodec-decode") {
    const codes = codesNpy(join(encodecDir, "golden_random_codes_seed7.npy"));
    const [a, b] = [await cpu.decode(codes), await gpu.decode(codes)];
    result = { check, device: gpu.device.spec, deviceName: gpu.device.description, ...compare(a, b) };
  } else if (check === "encodec-encode") {
    const samples = Float32Array.from(npy(join(encodecDir, "golden_prompt_wav_f32.npy")).data as ArrayLike<number>);
    const [a, b] = [await cpu.encodeLatent(samples), await gpu.encodeLatent(samples)];
    const [ca, cb] = [await cpu.encode(samples), await gpu.encode(samples)];
    let equal = 0;
    for (let i = 0; i < ca.length; i++) if (ca[i] === cb[i]) equal++;
    result = {
      check,
      device: gpu.device.spec,
      deviceName: gpu.device.description,
      ...compare(a, b),
      equalCodes: ca.length === cb.length ? equal / ca.length : 0,
    };
  } else {
    throw new Error(`unknown check ${JSON.stringify(check)}`);
  }
  await cpu.dispose();
  await gpu.dispose();
}
process.stdout.write(`${JSON.stringify(result)}\n`);
