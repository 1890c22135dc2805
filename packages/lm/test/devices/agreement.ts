/**
 * Run in a child process by devices.test.ts, with VALL_E_NATIVE_PATH set to a build with a GPU backend: every case
 * of the shared LM fixture, as a forward pass and as a KV-cache prefill plus one step, on the CPU and on `device`,
 * in one process of that build. Prints one JSON line: per case and path, the largest absolute difference of the
 * device's logits from the CPU's, the largest logit, and whether every row's argmax agrees.
 *
 *   tsx agreement.ts <model.gguf> <fixture dir> <device> [case name [forward|cache]]
 *
 * With a case name, only that case, and with a path only that path: lavapipe corrupts its heap now and then when one
 * process evaluates both kinds of graph (a forward, then a prefill into the cache), never when it evaluates one kind
 * (measured), so the test runs one process per case and path.
 */
import { readFileSync } from "node:fs";
import type { InputSpec } from "../../src/inputs/assemble.js";
import { LanguageModel, type LanguageModelContext } from "../../src/language-model.js";

const [modelPath, fixtureDir, deviceSpec, only, path] = process.argv.slice(2) as [
  string,
  string,
  string,
  string?,
  string?,
];
const manifest = JSON.parse(readFileSync(`${fixtureDir}/manifest.json`, "utf8")) as {
  cases: { name: string; input: string; mode: string }[];
};

export interface Agreement {
  device: string;
  deviceName: string;
  cases: { name: string; mode: string; path: "forward" | "cache"; maxAbs: number; maxLogit: number; argmax: boolean }[];
  /** cache path: a copy of the device's cache steps to exactly the original's logits. */
  copyEqual?: boolean;
}

function compare(cpu: Float32Array, device: Float32Array, width: number) {
  let maxAbs = cpu.length === device.length ? 0 : Number.POSITIVE_INFINITY;
  let maxLogit = 0;
  for (let i = 0; i < cpu.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs((cpu[i] as number) - (device[i] as number)));
    maxLogit = Math.max(maxLogit, Math.abs(cpu[i] as number));
  }
  let argmax = cpu.length === device.length;
  for (let r = 0; r < cpu.length / width; r++) {
    let a = 0;
    let b = 0;
    for (let j = 0; j < width; j++) {
      if ((cpu[r * width + j] as number) > (cpu[r * width + a] as number)) a = j;
      if ((device[r * width + j] as number) > (device[r * width + b] as number)) b = j;
    }
    argmax &&= a === b;
  }
  return { maxAbs, maxLogit, argmax };
}

const cpu = await LanguageModel.load(modelPath, { device: "cpu" });
const gpu = await LanguageModel.load(modelPath, { device: deviceSpec });
const result: Agreement = { device: gpu.device.spec, deviceName: gpu.device.description, cases: [] };
const contexts = await Promise.all([cpu, gpu].map((model) => model.createContext({ contextSize: 512 })));
for (const c of manifest.cases.filter((item) => only === undefined || item.name === only)) {
  const spec = JSON.parse(readFileSync(`${fixtureDir}/${c.input}`, "utf8")) as InputSpec;
  const input = cpu.assemble(spec);
  const width = input.head.end - input.head.start;
  if (path !== "cache") {
    process.stderr.write(`${c.name}: forward\n`); // where a driver crash happened, for the parent's message
    const a = await (contexts[0] as LanguageModelContext).forward([input]);
    const b = await (contexts[1] as LanguageModelContext).forward([input]);
    result.cases.push({ name: c.name, mode: c.mode, path: "forward", ...compare(a, b, width) });
  }
  if (path === "forward") continue;
  // The same tokens through the KV cache (causally): all but the last as a prefill, then the last as one step.
  const steps: Float32Array[] = [];
  const prefix = {
    ...input,
    rows: input.rows.slice(0, -1),
    positions: input.positions.slice(0, -1),
    causal: true,
    outputs: 1,
  };
  process.stderr.write(`${c.name}: cache\n`);
  for (const context of contexts) {
    await context.prefill(prefix);
    steps.push(await context.step(input.rows.at(-1) as number[], input.positions.at(-1) as number));
  }
  // The device's cache copied into a second context of that model (the prefix and step), which then steps again
  // from the copy: the same logits as the original's second step (the copy itself must be exact).
  const copy = await gpu.createContext({ contextSize: 512 });
  await copy.copyCacheFrom(contexts[1] as LanguageModelContext);
  const again = (context: LanguageModelContext) =>
    context.step(input.rows.at(-1) as number[], (input.positions.at(-1) as number) + 1);
  const [fromCopy, fromOriginal] = [await again(copy), await again(contexts[1] as LanguageModelContext)];
  await copy.dispose();
  result.copyEqual = fromCopy.length === fromOriginal.length && fromCopy.every((value, i) => value === fromOriginal[i]);
  result.cases.push({
    name: c.name,
    mode: c.mode,
    path: "cache",
    ...compare(steps[0] as Float32Array, steps[1] as Float32Array, width),
  });
}
for (const context of contexts) await context.dispose();
await cpu.dispose();
await gpu.dispose();
process.stdout.write(`${JSON.stringify(result)}\n`);
