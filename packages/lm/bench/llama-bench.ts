/**
 * The peer on the same kernels: llama.cpp's `llama-bench` and `llama-quantize`, built from the pinned tree the addon
 * compiles (native/.deps, via native/scripts/llama-source.mjs) with the addon's ggml configuration
 * (bench/llama-tools/CMakeLists.txt), into bench/.cache/llama-tools — configured and built once (ccache and Ninja
 * when present), rebuilt when the pinned commit changes.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The pinned llama.cpp source, as the native build prepares it (native/scripts/llama-source.mjs, plain JS). */
interface LlamaSource {
  LLAMA_SOURCE: { commit: string; llamaCppRelease: string };
  prepareLlamaSource(): Promise<string>;
}
const source = (await import(new URL("../../../native/scripts/llama-source.mjs", import.meta.url).href)) as LlamaSource;
const { LLAMA_SOURCE } = source;

export interface LlamaTools {
  bench: string;
  quantize: string;
}

const toolsSource = fileURLToPath(new URL("llama-tools", import.meta.url));

function has(command: string): boolean {
  return spawnSync(command, ["--version"], { stdio: "ignore" }).status === 0;
}

function run(command: string, args: readonly string[]): void {
  const child = spawnSync(command, args, { stdio: ["ignore", "inherit", "inherit"] });
  if (child.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${child.status})`);
}

/** llama-bench and llama-quantize, built on first use (a few minutes on 2 cores, seconds with ccache). */
export async function llamaTools(cacheDir: string): Promise<LlamaTools> {
  const build = join(cacheDir, "llama-tools");
  const tools = { bench: join(build, "bin", "llama-bench"), quantize: join(build, "bin", "llama-quantize") };
  const stamp = join(build, "vall-e-commit");
  if (existsSync(tools.bench) && existsSync(tools.quantize) && existsSync(stamp)) {
    if (readFileSync(stamp, "utf8").trim() === LLAMA_SOURCE.commit) return tools;
  }
  const tree = await source.prepareLlamaSource();
  process.stderr.write(`building llama-bench and llama-quantize (llama.cpp ${LLAMA_SOURCE.llamaCppRelease}) …\n`);
  run("cmake", [
    "-S",
    toolsSource,
    "-B",
    build,
    "-DCMAKE_BUILD_TYPE=Release",
    `-DLLAMA_CPP_DIR=${tree}`,
    ...(has("ninja") ? ["-G", "Ninja"] : []),
    ...(has("ccache") ? ["-DCMAKE_C_COMPILER_LAUNCHER=ccache", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"] : []),
  ]);
  run("cmake", ["--build", build, "--target", "llama-bench", "llama-quantize", "--parallel"]);
  writeFileSync(stamp, `${LLAMA_SOURCE.commit}\n`);
  return tools;
}

/** `llama-quantize` a GGUF into `type` (e.g. Q4_K_M), unless the output exists. */
export function quantize(tools: LlamaTools, input: string, output: string, type: string, threads: number): void {
  if (existsSync(output)) return;
  process.stderr.write(`llama-quantize ${type} → ${output} …\n`);
  run(tools.quantize, [input, output, type, String(threads)]);
}

export interface LlamaBenchResult {
  /** Prompt processing: tokens/s of a `prompt`-token batch. */
  ppTokensPerSecond: number;
  /** Generation: tokens/s of single-token steps after `depth` cached tokens. */
  tgTokensPerSecond: number;
  /** One generation step, ms (1000 / tgTokensPerSecond). */
  tgStepMs: number;
}

interface BenchEntry {
  n_prompt: number;
  n_gen: number;
  n_depth?: number;
  avg_ts: number;
}

/**
 * llama-bench on `model` with `threads`: prompt processing of `prompt` tokens, and `gen` generation steps after
 * `depth` cached tokens (`-d`), `repetitions` runs each, as JSON.
 */
export function llamaBench(
  tools: LlamaTools,
  model: string,
  options: { threads: number; prompt: number; gen: number; depth: number; repetitions: number },
): LlamaBenchResult {
  const args = ["-m", model, "-t", String(options.threads), "-r", String(options.repetitions), "-o", "json"];
  const pp = spawnSync(tools.bench, [...args, "-p", String(options.prompt), "-n", "0"], { encoding: "utf8" });
  const tg = spawnSync(tools.bench, [...args, "-p", "0", "-n", String(options.gen), "-d", String(options.depth)], {
    encoding: "utf8",
  });
  for (const child of [pp, tg]) {
    if (child.status !== 0) throw new Error(`llama-bench failed (exit ${child.status}):\n${child.stderr}`);
  }
  const entry = (stdout: string, test: (e: BenchEntry) => boolean) => {
    const found = (JSON.parse(stdout) as BenchEntry[]).find(test);
    if (!found) throw new Error(`llama-bench gave no such result:\n${stdout}`);
    return found;
  };
  const ppTokensPerSecond = entry(pp.stdout, (e) => e.n_prompt === options.prompt && e.n_gen === 0).avg_ts;
  const tgTokensPerSecond = entry(tg.stdout, (e) => e.n_gen === options.gen).avg_ts;
  return { ppTokensPerSecond, tgTokensPerSecond, tgStepMs: 1e3 / tgTokensPerSecond };
}
