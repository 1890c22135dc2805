/**
 * The peer on the same kernels: llama.cpp's `llama-bench` and `llama-quantize`, built in the addon's test-only oracle
 * tree (native/build-oracle: native/CMakeLists.txt with VALL_E_LLAMA_ORACLE, the pinned llama.cpp source and the
 * addon's own ggml configuration), so that `pnpm bench` compares our LM with llama.cpp's on the same kernels.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface LlamaTools {
  bench: string;
  quantize: string;
}

const nativeDir = fileURLToPath(new URL("../../../native", import.meta.url));
const oracleDir = join(nativeDir, "build-oracle");

function run(command: string, args: readonly string[]): void {
  const child = spawnSync(command, args, { stdio: ["ignore", "inherit", "inherit"] });
  if (child.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${child.status})`);
}

/** llama-bench and llama-quantize: the oracle tree configured (and its test targets built) if needed, then these. */
export async function llamaTools(): Promise<LlamaTools> {
  const tools = { bench: join(oracleDir, "bin", "llama-bench"), quantize: join(oracleDir, "bin", "llama-quantize") };
  if (!existsSync(join(oracleDir, "CMakeCache.txt")) || !existsSync(tools.quantize)) {
    run(process.execPath, [join(nativeDir, "scripts", "build.mjs"), "--llama-oracle"]);
  }
  // Incremental: a no-op when up to date, a rebuild when the pinned tree changed.
  run("cmake", ["--build", oracleDir, "--target", "llama-bench", "--parallel"]);
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
