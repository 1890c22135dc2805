/**
 * `vall-e build-native [--cpu native|x86-64-v3|avx512|armv8] [--jobs N]`: the explicit source build of the native
 * addon, for a machine no prebuilt package fits (or to tune it to this CPU). It compiles the installed
 * @vall-e/native's own sources (its scripts/build.mjs) into that package's build/Release/vall_e.node, which the
 * loader then prefers to any prebuilt binary. The tools it needs are checked first, and a missing one is named with
 * the command that installs it.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { expectOneOf, VallEError } from "@vall-e/core";
import { Command } from "commander";
import type { CommandContext } from "../context.js";
import { parseInteger } from "../io/options.js";

const CPU_TARGETS = ["native", "x86-64-v3", "avx512", "armv8"] as const;

/** A tool is on PATH (as an executable file; Windows extensions included). */
function onPath(name: string, env: NodeJS.ProcessEnv): boolean {
  const extensions = process.platform === "win32" ? (env.PATHEXT ?? ".EXE;.CMD").split(";") : [""];
  return (env.PATH ?? "")
    .split(delimiter)
    .filter(Boolean)
    .some((dir) => extensions.some((ext) => existsSync(join(dir, `${name}${ext}`))));
}

/** What a source build needs that this machine lacks, each with what provides it. */
export function missingBuildTools(env: NodeJS.ProcessEnv = process.env): string[] {
  const missing: string[] = [];
  if (!onPath("cmake", env)) missing.push("cmake");
  if (!onPath("git", env)) missing.push("git");
  // npm fetches the pinned llama.cpp source (scripts/llama-source.mjs).
  if (!onPath("npm", env)) missing.push("npm");
  // On Windows cmake-js finds Visual Studio's compiler itself (it is on PATH only in a developer prompt).
  if (process.platform !== "win32") {
    const cxx = env.CXX ? [env.CXX] : ["c++", "g++", "clang++"];
    if (!cxx.some((name) => (name.includes("/") ? existsSync(name) : onPath(name, env)))) {
      missing.push(env.CXX ? `the C++ compiler CXX=${env.CXX}` : "a C++17 compiler (g++ or clang++)");
    }
    if (!onPath("ninja", env) && !onPath("make", env)) missing.push("ninja or make");
  }
  return missing;
}

function installHint(): string {
  if (process.platform === "darwin") return "xcode-select --install && brew install cmake git";
  if (process.platform === "win32") return "install Visual Studio Build Tools (C++), CMake and Git";
  return "apt-get install cmake g++ make git (Debian/Ubuntu; the repository's ./setup.sh does this)";
}

export function buildNativeCommand(context: CommandContext): Command {
  return new Command("build-native")
    .description("build the native addon from source for this machine (for when no prebuilt package fits)")
    .option("--cpu <target>", `CPU target: ${CPU_TARGETS.join(", ")}`, "native")
    .option("--jobs <n>", "parallel compile jobs (default: the CPU count)", parseInteger("--jobs", 1, 256))
    .action(async (options: { cpu: string; jobs?: number }) => {
      const cpu = expectOneOf(options.cpu, "--cpu", CPU_TARGETS);
      const { jobs } = options;
      const missing = missingBuildTools();
      if (missing.length > 0) {
        throw new VallEError(
          "ERR_BUILD_TOOLS_MISSING",
          `A source build of the native addon needs ${missing.join(", ")}, which ${missing.length === 1 ? "is" : "are"} not on PATH. Install ${missing.length === 1 ? "it" : "them"}: ${installHint()}.`,
        );
      }
      const nativeDir = dirname(createRequire(import.meta.url).resolve("@vall-e/native/package.json"));
      const script = join(nativeDir, "scripts", "build.mjs");
      if (!existsSync(script)) {
        throw new VallEError(
          "ERR_NATIVE_BUILD_FAILED",
          `${script} is missing: this @vall-e/native has no build script`,
        );
      }
      context.output.info(`building the native addon in ${nativeDir} for ${cpu} (several minutes)…`);
      const started = Date.now();
      const env = { ...process.env, VALL_E_CPU: cpu, ...(jobs ? { VALL_E_BUILD_JOBS: String(jobs) } : {}) };
      // The compiler's output goes to stderr: stdout carries only the built file's path.
      const status = await new Promise<number | string>((resolve, reject) => {
        const child = spawn(process.execPath, [script], {
          cwd: nativeDir,
          env,
          stdio: ["ignore", 2, 2],
          signal: context.signal,
        });
        child.on("error", (error) => (error.name === "AbortError" ? reject(error) : resolve(error.message)));
        child.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
      });
      if (status !== 0) {
        throw new VallEError("ERR_NATIVE_BUILD_FAILED", `the native build failed (${status}); its output is above`);
      }
      const { probeAddon, SOURCE_BUILD_PATH } = await import("@vall-e/native");
      const probe = probeAddon(SOURCE_BUILD_PATH);
      if (!probe.ok) {
        throw new VallEError(
          "ERR_NATIVE_BUILD_FAILED",
          `the built ${SOURCE_BUILD_PATH} does not load: ${probe.reason}`,
        );
      }
      context.output.info(
        `built in ${((Date.now() - started) / 1000).toFixed(0)} s (version ${probe.version}); vall-e now loads this build before any prebuilt one`,
      );
      context.output.data(`${SOURCE_BUILD_PATH}\n`);
    });
}
