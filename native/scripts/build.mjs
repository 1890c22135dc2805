// Build the native core and addon with cmake-js over the pinned llama.cpp source.
//
//   node scripts/build.mjs [--llama-oracle] [--cpu native|x86-64-v3|avx512|armv8|portable] [--backends vulkan[,cuda]]
//
// --cpu chooses the CPU target: native (default: this machine's features, into build/) or one of the prebuilt
// package's variants (into build-<cpu>/, which is what scripts/pack-native.mjs ships); portable is this
// architecture's baseline of them (x86-64-v3, or armv8 on arm64).
// --backends compiles GPU backends in beside the CPU, into build-<backends>/ (build-x86-64-v3-vulkan/ with --cpu):
// the Vulkan build needs libvulkan-dev, glslc and spirv-headers (./setup.sh installs them when asked for it). The
// test suite's Vulkan build (build:vulkan, --cpu portable --backends vulkan) is the prebuilt package's vulkan variant.
// Environment (turbo.json lists these, so a change rebuilds):
//   VALL_E_BACKENDS         GPU backends of the default build in build/ (vulkan, cuda; empty: CPU only)
//   VALL_E_CPU              the CPU target when --cpu is not given
//   VALL_E_PORTABLE=1       the same as VALL_E_CPU=x86-64-v3 (the addon in build/ then runs on any x86-64-v3)
//   VALL_E_LLAMA_CPP_DIR    use this llama.cpp tree instead of fetching the pinned release
//   VALL_E_BUILD_JOBS       parallel compile jobs (default: the CPU count)
// With --llama-oracle, a separate tree (build-oracle/) configures libllama too and builds only the test-only
// programs vall_e_llama_oracle (our LM graph against llama_decode) and llama.cpp's llama-quantize (the published
// quant mixes, for the LM tests); the addon in build/ is left alone.
// Rebuilds are incremental: the CMake build tree under build/ is kept, and ccache is used when installed.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { prepareLlamaSource } from "./llama-source.mjs";

const nativeDir = resolve(fileURLToPath(new URL("..", import.meta.url)));
const argv = process.argv.slice(2);
const oracle = argv.includes("--llama-oracle");
const cpuIndex = argv.indexOf("--cpu");
const portable = ["1", "true", "on", "yes"].includes(String(process.env.VALL_E_PORTABLE ?? "").toLowerCase());
const asked = cpuIndex >= 0 ? argv[cpuIndex + 1] : process.env.VALL_E_CPU || (portable ? "x86-64-v3" : "native");
// "portable": the baseline the prebuilt packages target on this architecture (x86-64-v3, or armv8 on arm64).
const cpu = asked === "portable" ? (process.arch === "arm64" ? "armv8" : "x86-64-v3") : asked;
const CPU_TARGETS = ["native", "x86-64-v3", "avx512", "armv8"];
if (!CPU_TARGETS.includes(cpu)) {
  process.stderr.write(
    `[vall-e native] --cpu: expected one of ${[...CPU_TARGETS, "portable"].join(", ")}, got ${JSON.stringify(asked)}\n`,
  );
  process.exit(2);
}
const backendsIndex = argv.indexOf("--backends");
const backendsFlag = argv.find((arg) => arg.startsWith("--backends="));
if (backendsFlag) {
  process.stderr.write(
    `[vall-e native] write --backends and its list apart ("--backends vulkan"), not ${backendsFlag}\n`,
  );
  process.exit(2);
}
// VALL_E_BACKENDS is the default build's (build/); a variant asked for by flags gets what its flags say.
const backendsArg =
  backendsIndex >= 0 ? argv[backendsIndex + 1] : cpuIndex >= 0 || oracle ? "" : process.env.VALL_E_BACKENDS;
const backends = [...new Set((backendsArg ?? "").split(/[,;]/).map((name) => name.trim().toLowerCase()))]
  .filter(Boolean)
  .sort();
const BACKENDS = ["cuda", "vulkan"];
const unknown = backends.filter((name) => !BACKENDS.includes(name));
if (unknown.length > 0 || (backendsIndex >= 0 && backends.length === 0)) {
  process.stderr.write(
    `[vall-e native] ${backendsIndex >= 0 ? "--backends" : "VALL_E_BACKENDS"}: expected a comma-separated list of ${BACKENDS.join(", ")}, got ${JSON.stringify(backendsArg)}\n`,
  );
  process.exit(2);
}
// The default build (build/) may be given a CPU target (VALL_E_PORTABLE) and backends (VALL_E_BACKENDS); --cpu and
// --backends build a variant beside it.
const variantParts = [...(cpuIndex >= 0 && cpu !== "native" ? [cpu] : []), ...(backendsIndex >= 0 ? backends : [])];
const buildDir = join(
  nativeDir,
  oracle ? "build-oracle" : variantParts.length > 0 ? `build-${variantParts.join("-")}` : "build",
);
const jobs = Number.parseInt(process.env.VALL_E_BUILD_JOBS ?? "", 10) || availableParallelism();

function cmakeJs(command, extra = []) {
  // Resolved as a dependency (hoisted or not), so that an installed @vall-e/native builds too (vall-e build-native).
  const bin = join(dirname(createRequire(import.meta.url).resolve("cmake-js/package.json")), "bin", "cmake-js");
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
  VALL_E_CPU: cpu,
  VALL_E_BACKENDS: oracle ? "" : backends.join(";"),
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
// cmake-js takes one --target: the quantizer is built by a second call (the test-only tree shares its objects).
cmakeJs("build", oracle ? [...defineArgs, "--target", "vall_e_llama_oracle"] : defineArgs);
if (oracle) cmakeJs("build", [...defineArgs, "--target", "llama-quantize"]);
