/**
 * Installing vall-e without a compiler: every publishable package packed (`pack-native.mjs --pack-only --all`, the
 * platform package of this machine among them, staged by turbo's @vall-e/native#build:prebuilt), installed from the
 * tarballs with npm and with pnpm into scratch folders, and run with a PATH that has node, npm and pnpm but no cmake,
 * compiler, make or ninja. Then: `vall-e doctor` and `vall-e tts --model tiny` work from the prebuilt binary; the
 * forced x86-64-v3 variant is as faithful as the default one on the shared LM reference cases; the default variant
 * gives the source build's codes; without the platform package (`npm install --omit=optional`) the loader's error
 * says what to do; `vall-e build-native` names the tools it lacks. Measurements go to test-results/prebuilt.json.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixture } from "@tooling/config/fixtures";
import { tempDir } from "@tooling/config/temp-dir";
import { parseNpy } from "@vall-e/codec";
import { platformKey } from "@vall-e/native";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Finished, Running, bin as repoCli } from "../processes.js";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const nativeDir = join(root, "native");
const platform = platformKey();
const template = join(nativeDir, "platforms", platform, "package.json");
const staged = join(nativeDir, "build-packages", platform, "package.json");
const version = (JSON.parse(readFileSync(join(nativeDir, "package.json"), "utf8")) as { version: string }).version;
const platformPackage = `@vall-e/native-${platform}`;
const lmFixtures = fixture("lm");
const results: Record<string, unknown> = {};

/** Tools a source build would use: none of them may be on the scratch PATH. */
const BUILD_TOOLS = ["cmake", "c++", "g++", "gcc", "cc", "clang", "clang++", "make", "ninja", "git"];

function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const path = join(dir, name);
    if (dir && existsSync(path)) return path;
  }
  return undefined;
}

/** pnpm itself: the one running this test (npm_execpath), else the repository's own copy in .tools/. */
function pnpmScript(): string {
  const exec = process.env.npm_execpath;
  if (exec && /pnpm\.c?js$/.test(exec)) return exec;
  return join(root, ".tools", "node_modules", "pnpm", "bin", "pnpm.cjs");
}

/** A folder of links to what an install and a run need, and nothing a source build needs. */
function barePath(dir: string): string {
  const binDir = join(dir, "bin");
  mkdirSync(binDir);
  const tools = [
    "node",
    "npm",
    "npx",
    "sh",
    "bash",
    "env",
    "cat",
    "ls",
    "rm",
    "mkdir",
    "cp",
    "mv",
    "uname",
    "sed",
    "grep",
  ];
  for (const tool of tools) {
    const path = which(tool);
    if (path) symlinkSync(path, join(binDir, tool));
  }
  symlinkSync(pnpmScript(), join(binDir, "pnpm"));
  return binDir;
}

interface Scratch {
  dir: string;
  env: NodeJS.ProcessEnv;
}

function run(scratch: Scratch, command: string, args: string[], limitMs: number, extra: NodeJS.ProcessEnv = {}) {
  return new Running(command, args, { ...scratch.env, ...extra }, limitMs, join(scratch.dir, "app")).exited;
}

function vallEInstalled(scratch: Scratch, args: string[], extra: NodeJS.ProcessEnv = {}, limitMs = 45_000) {
  const cli = join(scratch.dir, "app", "node_modules", "@vall-e", "cli", "bin", "vall-e.js");
  return run(scratch, process.execPath, [cli, ...args], limitMs, extra);
}

function show(result: Finished): string {
  return `exit ${result.code ?? result.signal}\n${result.stdout}${result.stderr}`;
}

/** A scratch project whose only dependency is the CLI's tarball, every @vall-e package pinned to its tarball. */
function scratchProject(name: string, packagesDir: string, binDir: string, manager: "npm" | "pnpm"): Scratch {
  const dir = join(tempDir(`vall-e-install-${name}-`));
  const app = join(dir, "app");
  mkdirSync(app);
  const tarballs: Record<string, string> = {};
  for (const file of readdirSync(packagesDir)) {
    const match = /^vall-e-(.+)-\d+\.\d+\.\d+.*\.tgz$/.exec(file);
    if (match) tarballs[`@vall-e/${match[1]}`] = `file:${join(packagesDir, file)}`;
  }
  const cli = tarballs["@vall-e/cli"];
  const manifest: Record<string, unknown> = {
    name: `scratch-${name}`,
    private: true,
    dependencies: { "@vall-e/cli": cli },
  };
  if (manager === "npm") manifest.overrides = tarballs;
  else manifest.pnpm = { overrides: tarballs };
  writeFileSync(join(app, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const home = join(dir, "home");
  mkdirSync(home);
  return {
    dir,
    env: {
      HOME: home,
      PATH: binDir,
      // The run's own temporary folder (libpulse, loaded with espeak-ng, makes a runtime folder there for a new HOME).
      TMPDIR: process.env.TMPDIR ?? join(dir, "tmp"),
      NO_COLOR: "1",
      HF_HUB_OFFLINE: "1",
      // The package managers' caches are the user's (what a second install on a machine uses); nothing else is.
      npm_config_cache: join(homedir(), ".npm"),
      npm_config_store_dir: spawnSync(process.execPath, [pnpmScript(), "store", "path"], {
        encoding: "utf8",
      }).stdout.trim(),
      npm_config_update_notifier: "false",
      npm_config_fund: "false",
      npm_config_audit: "false",
    },
  };
}

async function doctor(scratch: Scratch, extra: NodeJS.ProcessEnv = {}) {
  const result = await vallEInstalled(scratch, ["doctor", "--json"], extra);
  return { result, report: JSON.parse(result.stdout) as DoctorJson };
}

interface DoctorJson {
  ok: boolean;
  addon: {
    ok: boolean;
    path?: string;
    source?: string;
    packageName?: string;
    variant?: string;
    reason?: string;
    error?: { code: string; message: string };
    ggml?: { build: string; cpuFeatures: string[] };
  };
  espeakNg: { ok: boolean };
}

function codesOf(dir: string): { shape: number[]; data: Int16Array } {
  const npy = parseNpy(readFileSync(join(dir, "001.codes.npy")), dir);
  return { shape: [...npy.shape], data: npy.data as Int16Array };
}

describe.skipIf(!existsSync(template))(`installing the prebuilt ${platform} package with no compiler on PATH`, () => {
  let packagesDir = "";
  let binDir = "";
  let npmScratch: Scratch;
  let pnpmScratch: Scratch;

  beforeAll(() => {
    expect(existsSync(staged), `${staged}: run \`pnpm --filter @vall-e/native build:prebuilt\``).toBe(true);
    const dir = tempDir("vall-e-packages-");
    packagesDir = join(dir, "packages");
    const started = Date.now();
    execFileSync(
      process.execPath,
      [join(nativeDir, "scripts", "pack-native.mjs"), "--pack-only", "--all", "--out", packagesDir],
      {
        cwd: root,
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, npm_execpath: pnpmScript() },
      },
    );
    results.packSeconds = (Date.now() - started) / 1000;
    results.tarballs = readdirSync(packagesDir).sort();
    binDir = barePath(dir);
    npmScratch = scratchProject("npm", packagesDir, binDir, "npm");
    pnpmScratch = scratchProject("pnpm", packagesDir, binDir, "pnpm");
  });

  afterAll(() => {
    mkdirSync("test-results", { recursive: true });
    writeFileSync("test-results/prebuilt.json", `${JSON.stringify(results, null, 2)}\n`);
  });

  it("packs every publishable package, the platform package among them, and the scratch PATH has no build tool", () => {
    expect(results.tarballs).toContain(`vall-e-native-${platform}-${version}.tgz`);
    for (const name of ["cli", "core", "native", "phonemizer", "codec", "lm", "pipeline", "server", "batch"]) {
      expect(results.tarballs).toContain(`vall-e-${name}-${version}.tgz`);
    }
    // What a shell (npm's scripts run in one) finds on that PATH.
    const found = spawnSync("sh", ["-c", `for tool in ${BUILD_TOOLS.join(" ")}; do command -v "$tool"; done; exit 0`], {
      env: { PATH: binDir },
      encoding: "utf8",
    });
    expect(found.status).toBe(0);
    expect(found.stdout).toBe("");
    expect(
      spawnSync("sh", ["-c", "for tool in node npm pnpm; do command -v $tool; done"], {
        env: { PATH: binDir },
        encoding: "utf8",
      }).stdout,
    ).toContain(join(binDir, "pnpm"));
    // …and the platform package carries its .node files, nothing to build.
    const listing = execFileSync("tar", ["tzf", join(packagesDir, `vall-e-native-${platform}-${version}.tgz`)], {
      encoding: "utf8",
    });
    expect(listing).toMatch(/package\/vall_e[-\w]*\.node/);
    expect(listing).not.toMatch(/CMakeLists|\.cpp/);
  });

  it("npm installs the tarballs without compiling anything", async () => {
    const started = Date.now();
    const result = await run(npmScratch, "npm", ["install", "--no-audit", "--no-fund"], 110_000);
    results.npmInstallSeconds = (Date.now() - started) / 1000;
    expect(result.code, show(result)).toBe(0);
    expect(existsSync(join(npmScratch.dir, "app", "node_modules", ...platformPackage.split("/"), "package.json"))).toBe(
      true,
    );
    expect(existsSync(join(npmScratch.dir, "app", "node_modules", "@vall-e", "native", "build"))).toBe(false);
  });

  it("npm: doctor loads the prebuilt binary and says why; tts --model tiny speaks", async () => {
    const { result, report } = await doctor(npmScratch);
    expect(result.code, show(result)).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.addon).toMatchObject({ ok: true, source: "prebuilt", packageName: platformPackage });
    expect(report.addon.path).toContain(join("node_modules", ...platformPackage.split("/")));
    expect(report.addon.reason).toBeTruthy();
    expect(report.addon.ggml?.build).toBe(report.addon.variant);
    results.npmVariant = report.addon.variant;
    results.npmReason = report.addon.reason;
    const human = await vallEInstalled(npmScratch, ["doctor"]);
    expect(human.stdout).toContain(`loaded     ${platformPackage} (${report.addon.variant}): ${report.addon.reason}`);
    expect(human.stdout).toContain("tried      source build: not built");

    const tts = await vallEInstalled(npmScratch, ["tts", "Hello.", "--model", "tiny", "-o", "out.wav"]);
    expect(tts.code, show(tts)).toBe(0);
    const wav = readFileSync(join(npmScratch.dir, "app", "out.wav"));
    expect(wav.subarray(0, 4).toString("latin1")).toBe("RIFF");
    expect(wav.length).toBeGreaterThan(44 + 2 * 12_000);
  });

  it("pnpm installs the same tarballs (no install scripts run) and the same commands work", async () => {
    const started = Date.now();
    const install = await run(pnpmScratch, "pnpm", ["install"], 110_000);
    results.pnpmInstallSeconds = (Date.now() - started) / 1000;
    expect(install.code, show(install)).toBe(0);
    const { result, report } = await doctor(pnpmScratch);
    expect(result.code, show(result)).toBe(0);
    expect(report.addon).toMatchObject({ ok: true, source: "prebuilt", packageName: platformPackage });
    const tts = await vallEInstalled(pnpmScratch, ["tts", "Hello.", "--model", "tiny", "-o", "out.wav"]);
    expect(tts.code, show(tts)).toBe(0);
    expect(
      readFileSync(join(pnpmScratch.dir, "app", "out.wav"))
        .subarray(0, 4)
        .toString("latin1"),
    ).toBe("RIFF");
  });

  const variants = existsSync(template)
    ? (JSON.parse(readFileSync(template, "utf8")) as { "vall-e": { variants: { name: string }[] } })[
        "vall-e"
      ].variants.map((v) => v.name)
    : [];

  it.skipIf(!variants.includes("vulkan"))(
    "the Vulkan variant is passed over where it finds no GPU; forced, it loads, lists lavapipe and computes on it",
    async () => {
      // This machine has no GPU: lavapipe, Mesa's software Vulkan, is all a Vulkan driver offers (and ggml lists it
      // only when GGML_VK_VISIBLE_DEVICES names it). The loader probes the variant and takes a CPU one.
      const { report } = await doctor(npmScratch, { GGML_VK_VISIBLE_DEVICES: "0" });
      expect(report.addon.variant).not.toBe("vulkan");
      const attempts = (report.addon as { attempts?: { candidate: string; outcome: string; reason: string }[] })
        .attempts;
      expect(attempts?.find((a) => a.candidate === `${platformPackage} vulkan`)).toEqual(
        expect.objectContaining({ outcome: "skipped", reason: "it finds no GPU (no vulkan device but software ones)" }),
      );
      const forced = { VALL_E_NATIVE_VARIANT: "vulkan", GGML_VK_VISIBLE_DEVICES: "0" };
      const vulkan = await doctor(npmScratch, forced);
      expect(vulkan.result.code, show(vulkan.result)).toBe(0);
      expect(vulkan.report.addon).toMatchObject({
        ok: true,
        variant: "vulkan",
        reason: "VALL_E_NATIVE_VARIANT=vulkan",
      });
      expect(vulkan.report.addon.ggml?.build).toBe("x86-64-v3+vulkan");
      const devices = (vulkan.report.addon as { devices?: { spec: string; software: boolean }[] }).devices ?? [];
      expect(devices.map((d) => [d.spec, d.software])).toEqual([
        ["vulkan:0", true],
        ["cpu", false],
      ]);
      // One LM forward on lavapipe against the CPU variant's (one kind of graph per process: lavapipe's
      // use-after-free, see @tooling/config/vulkan-child, has not struck such a process; a death by a signal is
      // retried once).
      if (!lmFixtures.present) {
        console.warn(`the LM forward part is ${lmFixtures.reason}`);
        return;
      }
      const gguf = join(lmFixtures.path, "valle_tiny_random_f16.gguf");
      const forward = async (name: string, env: NodeJS.ProcessEnv, device: string) => {
        const out = join(npmScratch.dir, `forward-${name}.npy`);
        const args = ["lm", "forward", "--model", gguf, "--input", join(lmFixtures.path, "nar_1.json")];
        for (let attempt = 1; ; attempt++) {
          const result = await vallEInstalled(npmScratch, [...args, "--device", device, "-o", out], env);
          if (result.signal && attempt < 2) continue;
          expect(result.code, show(result)).toBe(0);
          return parseNpy(readFileSync(out), out).data as Float32Array;
        }
      };
      const cpu = await forward("cpu", {}, "cpu");
      const gpu = await forward("vulkan", forced, "vulkan:0");
      let maxAbs = 0;
      let peak = 0;
      for (let i = 0; i < cpu.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs((gpu[i] ?? Number.NaN) - (cpu[i] ?? 0)));
        peak = Math.max(peak, Math.abs(cpu[i] ?? 0));
      }
      results.vulkanVariantForwardMaxAbs = maxAbs;
      // As packages/lm/test/devices.test.ts: within 2e-3 of the largest logit.
      expect(maxAbs).toBeLessThanOrEqual(2e-3 * peak);
    },
  );

  it.skipIf(!variants.includes("x86-64-v3"))(
    "VALL_E_NATIVE_VARIANT=x86-64-v3 loads the baseline build, as faithful to the LM reference as the default one",
    async () => {
      const forced = { VALL_E_NATIVE_VARIANT: "x86-64-v3" };
      const { report } = await doctor(npmScratch, forced);
      expect(report.addon).toMatchObject({ ok: true, variant: "x86-64-v3", reason: "VALL_E_NATIVE_VARIANT=x86-64-v3" });
      expect(report.addon.ggml?.cpuFeatures).not.toContain("AVX512");
      if (!lmFixtures.present) {
        console.warn(`the LM reference part is ${lmFixtures.reason}`);
        return;
      }
      const gguf = join(lmFixtures.path, "valle_tiny_random_f16.gguf");
      const agreement: Record<string, unknown> = {};
      for (const name of ["ar_1", "ar_2", "len_1", "nar_1", "nar_2", "narlen_1"]) {
        const reference = parseNpy(readFileSync(join(lmFixtures.path, `${name}.logits.npy`)), name);
        const logits: Record<string, Float32Array> = {};
        for (const variant of ["x86-64-v3", report.addon.variant ?? "", "default"]) {
          if (variant === "" || logits[variant]) continue;
          const out = join(npmScratch.dir, `${name}-${variant}.npy`);
          const env = variant === "default" ? {} : { VALL_E_NATIVE_VARIANT: variant };
          const args = ["lm", "forward", "--model", gguf, "--input", join(lmFixtures.path, `${name}.json`), "-o", out];
          const result = await vallEInstalled(npmScratch, args, env);
          expect(result.code, show(result)).toBe(0);
          logits[variant] = parseNpy(readFileSync(out), out).data as Float32Array;
        }
        const [rows = 1, columns = 1] = reference.shape;
        const ref = reference.data as Float32Array;
        for (const [variant, got] of Object.entries(logits)) {
          let maxAbs = 0;
          for (let i = 0; i < ref.length; i++)
            maxAbs = Math.max(maxAbs, Math.abs((got[i] ?? Number.NaN) - (ref[i] ?? 0)));
          agreement[`${name} ${variant}`] = maxAbs;
          // The fixture README's acceptance: max abs difference ≤ 5e-3 and the same argmax on every row.
          expect(maxAbs, `${name}, ${variant}`).toBeLessThanOrEqual(5e-3);
          for (let r = 0; r < rows; r++) {
            const argmax = (values: Float32Array) => {
              let best = 0;
              for (let c = 1; c < columns; c++)
                if ((values[r * columns + c] ?? 0) > (values[r * columns + best] ?? 0)) best = c;
              return best;
            };
            expect(argmax(got), `${name} row ${r}, ${variant}`).toBe(argmax(ref));
          }
        }
      }
      results.lmMaxAbsVsReference = agreement;
    },
  );

  it("the default variant's tiny-model codes are the source build's; x86-64-v3's agreement is measured", async () => {
    const text = "Hello there, how are you today?";
    const args = (dir: string) => [
      "tts",
      text,
      "--model",
      "tiny",
      "--seed",
      "7",
      "--artifacts",
      dir,
      "-o",
      `${dir}.wav`,
    ];
    const sourceDir = join(npmScratch.dir, "codes-source");
    const source = await new Running(
      process.execPath,
      [repoCli, ...args(sourceDir)],
      {
        ...process.env,
        NO_COLOR: "1",
        HF_HUB_OFFLINE: "1",
        XDG_CACHE_HOME: join(npmScratch.dir, "repo-cache"),
        VALL_E_MODEL_DIR: "",
      },
      45_000,
    ).exited;
    expect(source.code, show(source)).toBe(0);
    const sourceInfo = spawnSync(process.execPath, [repoCli, "doctor", "--json"], { encoding: "utf8" });
    const sourceFeatures = (JSON.parse(sourceInfo.stdout) as DoctorJson).addon.ggml?.cpuFeatures ?? [];

    const measured: Record<string, number> = {};
    for (const variant of ["default", ...(variants.includes("x86-64-v3") ? ["x86-64-v3"] : [])]) {
      const dir = join(npmScratch.dir, `codes-${variant}`);
      const env = variant === "default" ? {} : { VALL_E_NATIVE_VARIANT: variant };
      const result = await vallEInstalled(npmScratch, args(dir), env);
      expect(result.code, show(result)).toBe(0);
      const a = codesOf(dir);
      const b = codesOf(sourceDir);
      expect(a.shape, "the same length prediction").toEqual(b.shape);
      let same = 0;
      for (let i = 0; i < a.data.length; i++) if (a.data[i] === b.data[i]) same++;
      measured[variant] = same / a.data.length;
    }
    results.codesAgreeWithSourceBuild = measured;
    // The same instructions give the same program: where the default variant uses the features the source build
    // uses (AVX512_BF16 aside: the tiny model has no BF16 tensor), every code is the same.
    const { report } = await doctor(npmScratch);
    const strip = (features: string[]) => features.filter((f) => f !== "AVX512_BF16").sort();
    if (JSON.stringify(strip(report.addon.ggml?.cpuFeatures ?? [])) === JSON.stringify(strip(sourceFeatures))) {
      expect(measured.default).toBe(1);
    }
  });

  it("without the platform package (npm --omit=optional), doctor and tts give the loader's error with what to do", async () => {
    const prune = await run(npmScratch, "npm", ["install", "--omit=optional", "--no-audit", "--no-fund"], 55_000);
    expect(prune.code, show(prune)).toBe(0);
    expect(existsSync(join(npmScratch.dir, "app", "node_modules", ...platformPackage.split("/")))).toBe(false);

    const human = await vallEInstalled(npmScratch, ["doctor"]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`FAIL addon      No vall-e native addon fits this machine (${platform}).`);
    expect(human.stdout).toContain(`${platformPackage}: not installed`);
    expect(human.stdout).toContain(`npm install ${platformPackage}@${version}`);
    expect(human.stdout).toContain("vall-e build-native");

    const tts = await vallEInstalled(npmScratch, ["tts", "Hello.", "--model", "tiny", "-o", "out2.wav"]);
    expect(tts.code, show(tts)).toBe(1);
    const errors = tts.stderr.split("\n").filter((line) => line.startsWith("error:"));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain("No vall-e native addon fits this machine");
    expect(errors[0]).toContain("VALL_E_NATIVE_PATH");
    expect(existsSync(join(npmScratch.dir, "app", "out2.wav"))).toBe(false);
  });

  it("vall-e build-native names the build tools this PATH lacks and how to install them", async () => {
    const result = await vallEInstalled(npmScratch, ["build-native"]);
    expect(result.code, show(result)).toBe(1);
    expect(result.stderr).toContain(
      "error: A source build of the native addon needs cmake, git, a C++17 compiler (g++ or clang++), ninja or make, which are not on PATH.",
    );
    expect(result.stderr).toContain("apt-get install cmake g++ make git");
  });
});
