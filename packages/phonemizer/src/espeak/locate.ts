/**
 * Finding the system's espeak-ng: its shared library and its data directory. `vall-e doctor` reports this when
 * the native addon does not load; the addon itself loads the same library at run time (it does not link it).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface EspeakNgInstallation {
  /** Both the library and the data were found. */
  available: boolean;
  /** Path of the shared library, when found. */
  library: string | undefined;
  /** Path of the espeak-ng-data directory, when found. */
  dataDir: string | undefined;
  /** What is missing and how to install it, when not available. */
  problem: string | undefined;
}

const MULTIARCH: Partial<Record<string, string>> = {
  x64: "x86_64-linux-gnu",
  arm64: "aarch64-linux-gnu",
  arm: "arm-linux-gnueabihf",
  riscv64: "riscv64-linux-gnu",
};

const INSTALL_HINT =
  "Install espeak-ng: `apt-get install libespeak-ng1 espeak-ng-data` on Debian/Ubuntu (./setup.sh does this), " +
  "`brew install espeak-ng` on macOS.";

function libDirs(): string[] {
  const triplet = MULTIARCH[process.arch];
  return [
    ...(triplet ? [`/usr/lib/${triplet}`, `/lib/${triplet}`] : []),
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
    "/opt/homebrew/lib",
  ];
}

/** Look for espeak-ng in the usual places. ESPEAK_DATA_PATH (espeak-ng's own variable) is honoured. */
export function locateEspeakNg(env: NodeJS.ProcessEnv = process.env): EspeakNgInstallation {
  const names = process.platform === "darwin" ? ["libespeak-ng.1.dylib", "libespeak-ng.dylib"] : ["libespeak-ng.so.1"];
  const library = libDirs()
    .flatMap((dir) => names.map((name) => join(dir, name)))
    .find((path) => existsSync(path));

  const triplet = MULTIARCH[process.arch];
  const dataCandidates = [
    ...(env.ESPEAK_DATA_PATH ? [join(env.ESPEAK_DATA_PATH, "espeak-ng-data"), env.ESPEAK_DATA_PATH] : []),
    ...(triplet ? [`/usr/lib/${triplet}/espeak-ng-data`] : []),
    "/usr/share/espeak-ng-data",
    "/usr/local/share/espeak-ng-data",
    "/opt/homebrew/share/espeak-ng-data",
  ];
  // A data directory holds the compiled phoneme tables.
  const dataDir = dataCandidates.find((dir) => existsSync(join(dir, "phontab")));

  const missing = [
    library ? undefined : "the libespeak-ng shared library",
    dataDir ? undefined : "espeak-ng-data",
  ].filter((item): item is string => item !== undefined);
  return {
    available: missing.length === 0,
    library,
    dataDir,
    problem:
      missing.length === 0
        ? undefined
        : `espeak-ng is not installed: ${missing.join(" and ")} not found. ${INSTALL_HINT}`,
  };
}
