/**
 * Which native addon this process loads, and why. In order, the first that fits:
 *   1. VALL_E_NATIVE_PATH: this file, and nothing else when it is set;
 *   2. the source build in this package (build/Release/vall_e.node: `vall-e build-native`, or the repository's build);
 *   3. a GPU variant of the platform package, probed in a child process first (a driver that crashes stays there),
 *      used where it finds a GPU (a device of its backends that is not a software one: lavapipe does not count);
 *   4. the best CPU variant of the platform package the CPU can run (e.g. avx512 before x86-64-v3);
 * and otherwise one error that lists what was tried and what to do. Every candidate's version must be this
 * package's. The platform packages (@vall-e/native-<platform>) are optional dependencies with `os`/`cpu`/`libc`
 * fields, so a package manager installs only the one for this machine; each names its variants in the `vall-e`
 * field of its package.json.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describeKind, statPathSync } from "@vall-e/core";
import type { NativeBinding } from "./binding.js";
import { NativeLoadError } from "./errors.js";

/** One build of the addon inside a platform package. */
export interface NativeVariant {
  /** e.g. "avx512", "x86-64-v3", "vulkan". */
  name: string;
  /** The .node file, relative to the package. */
  file: string;
  /** "gpu" variants are probed in a child process before this process loads them. */
  kind: "cpu" | "gpu";
  /** CPU flags (as /proc/cpuinfo names them) the variant needs; empty when it runs on every CPU of its platform. */
  requires: string[];
  /** A GPU variant's CPU target ("x86-64-v3") and the GPU backends compiled in (["vulkan"]). */
  cpu?: string;
  backends?: string[];
}

export type NativeSource = "VALL_E_NATIVE_PATH" | "source build" | "prebuilt";

/** One candidate the loader looked at, and what became of it. */
export interface NativeAttempt {
  /** What was looked at: "VALL_E_NATIVE_PATH", "source build", or "<package> <variant>". */
  candidate: string;
  path: string | undefined;
  outcome: "loaded" | "skipped" | "failed";
  reason: string;
}

/** What `vall-e doctor` shows: the binary loaded, where it came from and why, and everything tried before it. */
export interface NativeLoadReport {
  platform: string;
  path: string;
  source: NativeSource;
  /** The platform package, for a prebuilt binary. */
  packageName: string | undefined;
  variant: string | undefined;
  reason: string;
  attempts: NativeAttempt[];
}

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const requireHere = createRequire(import.meta.url);

/** This package's version: every binary it loads must carry the same. */
export const NATIVE_VERSION: string = (
  JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as {
    version: string;
  }
).version;

/** Where a source build puts the addon (`vall-e build-native`, or `pnpm --filter @vall-e/native build`). */
export const SOURCE_BUILD_PATH = join(packageDir, "build", "Release", "vall_e.node");

/** "linux-x64-gnu", "linux-arm64-musl", "darwin-arm64", "win32-x64", … */
export function platformKey(): string {
  if (process.platform !== "linux") return `${process.platform}-${process.arch}`;
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return `linux-${process.arch}-${header?.glibcVersionRuntime ? "gnu" : "musl"}`;
}

/** The platform packages that exist, by platform key. */
export const PLATFORM_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  "linux-x64-gnu": "@vall-e/native-linux-x64-gnu",
  "linux-arm64-gnu": "@vall-e/native-linux-arm64-gnu",
  "darwin-arm64": "@vall-e/native-darwin-arm64",
  "win32-x64": "@vall-e/native-win32-x64",
});

/**
 * The platform package's package.json, when installed. Literal specifiers, one per package, so that bundlers and
 * Electron's asar unpacking can see them.
 */
function resolvePlatformPackage(key: string): string | undefined {
  try {
    switch (key) {
      case "linux-x64-gnu":
        return requireHere.resolve("@vall-e/native-linux-x64-gnu/package.json");
      case "linux-arm64-gnu":
        return requireHere.resolve("@vall-e/native-linux-arm64-gnu/package.json");
      case "darwin-arm64":
        return requireHere.resolve("@vall-e/native-darwin-arm64/package.json");
      case "win32-x64":
        return requireHere.resolve("@vall-e/native-win32-x64/package.json");
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** The CPU's flags as Linux reports them (/proc/cpuinfo), or undefined where they cannot be read. */
export function cpuFlags(cpuinfo?: string): Set<string> | undefined {
  let text = cpuinfo;
  if (text === undefined) {
    if (process.platform !== "linux") return undefined;
    try {
      text = readFileSync("/proc/cpuinfo", "utf8");
    } catch {
      return undefined;
    }
  }
  const line = text.split("\n").find((entry) => /^(flags|Features)\s*:/.test(entry));
  return line
    ? new Set(
        line
          .replace(/^[^:]*:/, "")
          .trim()
          .split(/\s+/),
      )
    : undefined;
}

/** The flags of `variant` that `flags` lacks ([] when it can run; undefined when the flags are unknown). */
export function missingFlags(variant: NativeVariant, flags: Set<string> | undefined): string[] | undefined {
  if (variant.requires.length === 0) return [];
  if (flags === undefined) return undefined;
  return variant.requires.filter((flag) => !flags.has(flag));
}

function isVariant(value: unknown): value is NativeVariant {
  const v = value as Partial<NativeVariant> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.name === "string" &&
    typeof v.file === "string" &&
    (v.kind === "cpu" || v.kind === "gpu") &&
    Array.isArray(v.requires) &&
    v.requires.every((flag) => typeof flag === "string")
  );
}

function readVariants(manifestPath: string): { version: string; variants: NativeVariant[] } {
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    version?: unknown;
    "vall-e"?: { variants?: unknown };
  };
  const variants = manifest["vall-e"]?.variants;
  if (typeof manifest.version !== "string" || !Array.isArray(variants) || !variants.every(isVariant)) {
    throw new Error(`${manifestPath} has no valid "vall-e".variants list ({ name, file, kind, requires } each)`);
  }
  return { version: manifest.version, variants };
}

// Windows' exit status for an illegal instruction (STATUS_ILLEGAL_INSTRUCTION).
const WINDOWS_ILLEGAL_INSTRUCTION = 0xc000001d;

/**
 * Load `path` in a child process and ask it for its system info: whether this process may load it without being
 * taken down by it (a GPU driver that aborts, an instruction this CPU lacks). Bounded by `timeoutMs`.
 */
export function probeAddon(
  path: string,
  timeoutMs = 20_000,
): { ok: true; version: string; gpus: string[] } | { ok: false; reason: string } {
  // Its devices too: the GPUs (not the CPU, not a software device) a GPU variant would run on.
  const script =
    "const b = require(process.argv[1]); const i = b.systemInfo(); " +
    "const gpus = (typeof b.devices === 'function' ? b.devices() : []).filter((d) => d.backend.toLowerCase() !== 'cpu' && !d.software).map((d) => d.description); " +
    "process.stdout.write(JSON.stringify({ version: i.version, gpus }));";
  const result = spawnSync(process.execPath, ["-e", script, path], {
    encoding: "utf8",
    timeout: timeoutMs,
    // In Electron, process.execPath is the app: run it as plain Node.
    env: { ...process.env, NODE_OPTIONS: "", ELECTRON_RUN_AS_NODE: "1" },
  });
  if (result.error) return { ok: false, reason: `the probe could not run (${result.error.message})` };
  if (result.signal) return { ok: false, reason: `loading it killed the probe process (${result.signal})` };
  if (result.status === WINDOWS_ILLEGAL_INSTRUCTION) {
    return {
      ok: false,
      reason: "loading it killed the probe process (an illegal instruction: this CPU lacks one it uses)",
    };
  }
  if (result.status !== 0) {
    const line = result.stderr.split("\n").find((entry) => /Error/.test(entry)) ?? `exit ${result.status}`;
    return { ok: false, reason: `it fails to load (${line.trim().slice(0, 200)})` };
  }
  try {
    const { version, gpus } = JSON.parse(result.stdout) as { version: string; gpus: string[] };
    return { ok: true, version, gpus };
  } catch {
    return { ok: false, reason: "the probe printed no system info" };
  }
}

function requireAddon(path: string): NativeBinding {
  return requireHere(path) as NativeBinding;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
}

/** A loaded binding and the report of how it was chosen. */
export interface LoadedNative {
  binding: NativeBinding;
  report: NativeLoadReport;
}

/**
 * Find and load the addon for this machine (see the module's comment for the order). Throws NativeLoadError:
 * ERR_NATIVE_NOT_BUILT when nothing fits (the message lists what was tried and what to do), ERR_NATIVE_LOAD_FAILED
 * when VALL_E_NATIVE_PATH names a file that does not load.
 */
export function loadNative(env: NodeJS.ProcessEnv = process.env): LoadedNative {
  const platform = platformKey();
  const attempts: NativeAttempt[] = [];
  const done = (
    binding: NativeBinding,
    path: string,
    source: NativeSource,
    reason: string,
    extra: { packageName?: string; variant?: string } = {},
  ): LoadedNative => {
    attempts.push({
      candidate: extra.variant ? `${extra.packageName} ${extra.variant}` : source,
      path,
      outcome: "loaded",
      reason,
    });
    return {
      binding,
      report: { platform, path, source, packageName: extra.packageName, variant: extra.variant, reason, attempts },
    };
  };
  // A binary built from another version of this package's source is refused: its C API may differ.
  const versionProblem = (binding: NativeBinding): string | undefined => {
    const version = binding.systemInfo().version;
    return version === NATIVE_VERSION ? undefined : `it is version ${version}, @vall-e/native is ${NATIVE_VERSION}`;
  };

  if (env.VALL_E_NATIVE_ADDON && !env.VALL_E_NATIVE_PATH) {
    process.emitWarning("VALL_E_NATIVE_ADDON is no longer read: set VALL_E_NATIVE_PATH instead", {
      code: "VALL_E_NATIVE_ADDON",
    });
  }
  // 1. An explicit path: that file or an error, never something else (relative to the working directory).
  const explicit = env.VALL_E_NATIVE_PATH ? resolve(env.VALL_E_NATIVE_PATH) : undefined;
  if (explicit) {
    const found = statPathSync(explicit);
    if (!found) {
      throw new NativeLoadError(
        "ERR_NATIVE_NOT_BUILT",
        `VALL_E_NATIVE_PATH is ${explicit}, which does not exist. Point it at a built vall_e.node, or unset it to use the installed one.`,
      );
    }
    // Only a regular file is handed to the dynamic loader: a FIFO or /dev/zero would block it or read it forever.
    if (!found.isFile()) {
      throw new NativeLoadError(
        "ERR_NATIVE_LOAD_FAILED",
        `VALL_E_NATIVE_PATH is ${explicit}, which is a ${describeKind(found)}, not a built vall_e.node file.`,
      );
    }
    let binding: NativeBinding;
    try {
      binding = requireAddon(explicit);
    } catch (error) {
      throw new NativeLoadError(
        "ERR_NATIVE_LOAD_FAILED",
        `The vall-e native addon at ${explicit} (VALL_E_NATIVE_PATH) could not be loaded (${firstLine(error)}). ${whatToDo(platform)}`,
        { cause: error },
      );
    }
    const problem = versionProblem(binding);
    if (problem) {
      throw new NativeLoadError(
        "ERR_NATIVE_LOAD_FAILED",
        `The vall-e native addon at ${explicit} (VALL_E_NATIVE_PATH) does not match this package: ${problem}.`,
      );
    }
    return done(binding, explicit, "VALL_E_NATIVE_PATH", "VALL_E_NATIVE_PATH is set");
  }
  attempts.push({ candidate: "VALL_E_NATIVE_PATH", path: undefined, outcome: "skipped", reason: "not set" });

  // 2. A source build of this package.
  const forced = env.VALL_E_NATIVE_VARIANT || undefined;
  if (forced) {
    attempts.push({
      candidate: "source build",
      path: SOURCE_BUILD_PATH,
      outcome: "skipped",
      reason: `VALL_E_NATIVE_VARIANT=${forced} asks for a prebuilt variant`,
    });
  } else if (!existsSync(SOURCE_BUILD_PATH)) {
    attempts.push({ candidate: "source build", path: SOURCE_BUILD_PATH, outcome: "skipped", reason: "not built" });
  } else {
    try {
      const binding = requireAddon(SOURCE_BUILD_PATH);
      const problem = versionProblem(binding);
      if (!problem) return done(binding, SOURCE_BUILD_PATH, "source build", "a source build of this package exists");
      attempts.push({
        candidate: "source build",
        path: SOURCE_BUILD_PATH,
        outcome: "failed",
        reason: `${problem}; rebuild it with \`vall-e build-native\``,
      });
    } catch (error) {
      attempts.push({
        candidate: "source build",
        path: SOURCE_BUILD_PATH,
        outcome: "failed",
        reason: firstLine(error),
      });
    }
  }

  // 3 and 4. The platform package: GPU variants first (probed), then the best CPU variant.
  const packageName = PLATFORM_PACKAGES[platform];
  const manifestPath = packageName ? resolvePlatformPackage(platform) : undefined;
  if (!packageName) {
    attempts.push({
      candidate: `prebuilt for ${platform}`,
      path: undefined,
      outcome: "skipped",
      reason: "no prebuilt package exists for this platform",
    });
  } else if (!manifestPath) {
    attempts.push({ candidate: packageName, path: undefined, outcome: "skipped", reason: "not installed" });
  } else {
    const root = dirname(manifestPath);
    let listed: { version: string; variants: NativeVariant[] } | undefined;
    try {
      listed = readVariants(manifestPath);
    } catch (error) {
      attempts.push({ candidate: packageName, path: manifestPath, outcome: "failed", reason: firstLine(error) });
    }
    if (listed && listed.version !== NATIVE_VERSION) {
      attempts.push({
        candidate: packageName,
        path: root,
        outcome: "failed",
        reason: `it is version ${listed.version}, @vall-e/native is ${NATIVE_VERSION} (reinstall so that both match)`,
      });
    } else if (listed) {
      const flags = cpuFlags();
      const ordered = [
        ...listed.variants.filter((v) => v.kind === "gpu"),
        ...listed.variants.filter((v) => v.kind !== "gpu"),
      ];
      if (forced && !ordered.some((v) => v.name === forced)) {
        throw new NativeLoadError(
          "ERR_NATIVE_NOT_BUILT",
          `VALL_E_NATIVE_VARIANT is ${forced}, but ${packageName} has only ${ordered.map((v) => v.name).join(", ")}.`,
        );
      }
      for (const variant of ordered) {
        const candidate = `${packageName} ${variant.name}`;
        const path = join(root, variant.file);
        if (forced && variant.name !== forced) {
          attempts.push({ candidate, path, outcome: "skipped", reason: `VALL_E_NATIVE_VARIANT=${forced}` });
          continue;
        }
        const missing = missingFlags(variant, flags);
        if (missing && missing.length > 0) {
          attempts.push({ candidate, path, outcome: "skipped", reason: `this CPU lacks ${missing.join(", ")}` });
          continue;
        }
        if (!existsSync(path)) {
          attempts.push({ candidate, path, outcome: "failed", reason: "the file is missing from the package" });
          continue;
        }
        // A GPU variant, or a CPU variant whose requirements cannot be checked here, is tried in a child first.
        let gpus: string[] = [];
        if (variant.kind === "gpu" || missing === undefined) {
          const probe = probeAddon(path);
          if (!probe.ok) {
            attempts.push({ candidate, path, outcome: "failed", reason: probe.reason });
            continue;
          }
          gpus = probe.gpus;
          // Without a GPU it would only run on the CPU, where a CPU variant is as fast or faster (AVX-512).
          if (variant.kind === "gpu" && gpus.length === 0 && !forced) {
            attempts.push({
              candidate,
              path,
              outcome: "skipped",
              reason: `it finds no GPU (no ${(variant.backends ?? ["GPU"]).join(" or ")} device but software ones)`,
            });
            continue;
          }
        }
        try {
          const binding = requireAddon(path);
          const problem = versionProblem(binding);
          if (problem) {
            attempts.push({ candidate, path, outcome: "failed", reason: problem });
            continue;
          }
          const why = forced
            ? `VALL_E_NATIVE_VARIANT=${forced}`
            : variant.kind === "gpu"
              ? `a GPU variant that loaded in a probe process and found ${gpus.join(", ")}`
              : variant.requires.length > 0
                ? `the CPU has ${variant.requires.join(", ")}`
                : `the ${platform} build`;
          return done(binding, path, "prebuilt", why, { packageName, variant: variant.name });
        } catch (error) {
          attempts.push({ candidate, path, outcome: "failed", reason: firstLine(error) });
        }
      }
    }
  }

  const tried = attempts.map((a) => `${a.candidate}${a.path ? ` (${a.path})` : ""}: ${a.reason}`).join("; ");
  throw new NativeLoadError(
    "ERR_NATIVE_NOT_BUILT",
    `No vall-e native addon fits this machine (${platform}). Tried: ${tried}. ${whatToDo(platform)}`,
    { attempts },
  );
}

function whatToDo(platform: string): string {
  const packageName = PLATFORM_PACKAGES[platform];
  const install = packageName
    ? `Install the prebuilt binary (\`npm install ${packageName}@${NATIVE_VERSION}\`; it is an optional dependency of @vall-e/native, so an install with --omit=optional or --no-optional leaves it out), or build`
    : `There is no prebuilt binary for ${platform}: build`;
  return `${install} from source with \`vall-e build-native\` (needs cmake, a C++17 compiler and git), or set VALL_E_NATIVE_PATH to a built vall_e.node.`;
}
