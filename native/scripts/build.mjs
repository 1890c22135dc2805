// Build the native core and addon with cmake-js over the pinned llama.cpp source.
//
//   node scripts/build.mjs [--llama-oracle]
//
// Environment (turbo.json lists these, so a change rebuilds):
//   VALL_E_PORTABLE=1       build for a CPU baseline (x86-64-v3) instead of this machine's features
//   VALL_E_LLAMA_CPP_DIR    use this llama.cpp tree instead of fetching the pinned release
//   VALL_E_BUILD_JOBS       parallel compile jobs (default: the CPU count)
// With --llama-oracle, a separate tree (build-oracle/) configures libllama too and builds only the test-only
// program vall_e_llama_oracle (our LM graph against llama_decode); the addon in build/ is left alone.
// Rebuilds are incremental: the CMake build tree under build/ is kept, and ccache is used when installed.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { prepareLlamaSource } from "./llama-source.mjs";

const nativeDir = resolve(fileURLToPath(new URL("..", import.meta.url)));
const oracle = process.argv.includes("--llama-oracle");
const buildDir = join(nativeDir, oracle ? "build-oracle" : "build");
const portable = ["1", "true", "on", "yes"].includes(String(process.env.VALL_E_PORTABLE ?? "").toLowerCase());
const jobs = Number.parseInt(process.env.VALL_E_BUILD_JOBS ?? "", 10) || availableParallelism();

function cmakeJs(command, extra = []) {
  const bin = join(nativeDir, "node_modules", "cmake-js", "bin", "cmake-js");
  const args = [
    bin,
    command,
    "--directory",
    nativeDir,
    "--out",
    buildDir,
    "--parallel",
    String(jobs),
    "--log-level",
    "warn",
    ...extra,
  ];
  const result = spawnSync(process.execPath, args, { stdio: "inherit", cwd: nativeDir });
  if (result.status !== 0) {
    process.stderr.write(`[vall-e native] cmake-js ${command} failed (exit ${result.status ?? result.signal})\n`);
    process.exit(1);
  }
}

let llamaDir;
try {
  llamaDir = await prepareLlamaSource();
} catch (error) {
  process.stderr.write(`[vall-e native] could not prepare the llama.cpp source: ${error.message}\n`);
  process.exit(1);
}

const defines = {
  LLAMA_CPP_DIR: llamaDir,
  VALL_E_PORTABLE: portable ? "ON" : "OFF",
  VALL_E_LLAMA_ORACLE: oracle ? "ON" : "OFF",
};
const defineArgs = Object.entries(defines).map(([key, value]) => `--CD${key}=${value}`);

// Re-configure when the options changed since the last configure (a flipped switch must not reuse a stale cache).
const stampPath = join(buildDir, "vall-e-configure.json");
const stamp = JSON.stringify(defines);
const configured =
  existsSync(join(buildDir, "CMakeCache.txt")) && existsSync(stampPath) && readFileSync(stampPath, "utf8") === stamp;
if (!configured) {
  cmakeJs("configure", defineArgs);
  writeFileSync(stampPath, stamp);
}
cmakeJs("build", oracle ? [...defineArgs, "--target", "vall_e_llama_oracle"] : defineArgs);
