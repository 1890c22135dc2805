// Build this platform's prebuilt native package and pack it (`pnpm pack:native`).
//
//   node native/scripts/pack-native.mjs [--out DIR] [--all] [--variant NAME]... [--stage-only | --pack-only]
//
// 1. Every variant that native/platforms/<platform>/package.json lists is built from source for its CPU target
//    (scripts/build.mjs --cpu <target>, into native/build-<target>/); a GPU variant (kind "gpu") for its "cpu" target
//    with its "backends" (--cpu <cpu> --backends <backends>, into native/build-<cpu>-<backends>/: the Vulkan one is
//    the test suite's Vulkan build, build:vulkan, so turbo builds it once);
// 2. the package is staged in native/build-packages/<platform>/: the repository's manifest with its `os`, `cpu` and
//    `libc` fields set from its "vall-e" field (the workspace copy has none, so that pnpm does not warn about
//    foreign platforms on every command), the .node files, README and LICENSE;
// 3. each .node is checked: it loads in a child process, reports this package's version and build target, and
//    needs no shared library beyond the C and C++ runtimes (the ELF's NEEDED entries, on Linux) — and its GPU
//    backends' loaders (libvulkan.so.1), which a machine without them lacks: the loader then skips that variant;
// 4. the staged package is packed into DIR (default: .packages/ at the repository root);
//    with --all, every publishable workspace package is packed beside it (their dist/ must be built: `pnpm
//    pack:native` runs `turbo run build` first), which is what an install test or a release needs. `pnpm pack`
//    turns `workspace:*` ranges into exact versions.
// --variant NAME builds only that variant (repeatable); the others must then already be staged.
// --stage-only stops after step 3 (turbo's @vall-e/native#build:prebuilt); --pack-only builds nothing and packs
// what is staged (after checking it again).
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { npmCommand } from "./npm-command.mjs";

// The loader's own platform key and CPU-flag check (this package's dist/, built before: turbo's build:prebuilt
// depends on build).
let loader;
try {
  loader = await import("../dist/loader.js");
} catch (error) {
  process.stderr.write(`[pack-native] native/dist is not built (${error.message}): run \`pnpm build\` first\n`);
  process.exit(1);
}
const { cpuFlags, missingFlags, platformKey } = loader;

const nativeDir = resolve(fileURLToPath(new URL("..", import.meta.url)));
const root = dirname(nativeDir);

function fail(message) {
  process.stderr.write(`[pack-native] ${message}\n`);
  process.exit(1);
}

function log(message) {
  process.stderr.write(`[pack-native] ${message}\n`);
}

function parseArgs(argv) {
  const options = { out: join(root, ".packages"), all: false, variants: [], stageOnly: false, packOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--all") options.all = true;
    else if (arg === "--out" && argv[i + 1]) options.out = resolve(argv[++i]);
    else if (arg === "--variant" && argv[i + 1]) options.variants.push(argv[++i]);
    else if (arg === "--stage-only") options.stageOnly = true;
    else if (arg === "--pack-only") options.packOnly = true;
    else
      fail(
        `unknown argument ${JSON.stringify(arg)} (expected --out DIR, --all, --variant NAME, --stage-only, --pack-only)`,
      );
  }
  if (options.stageOnly && options.packOnly) fail("give --stage-only or --pack-only, not both");
  if (options.packOnly && options.variants.length > 0) fail("--pack-only builds nothing: --variant does not apply");
  return options;
}

// A CPU variant's name is the CPU target it is built for; a GPU variant names its CPU target and backends.
const TARGETS = new Set(["x86-64-v3", "avx512", "armv8"]);
const GPU_BACKENDS = new Set(["vulkan", "cuda"]);

// The shared libraries a GPU backend's variant may need beyond ALLOWED_NEEDED.
const BACKEND_NEEDED = { vulkan: /^libvulkan\.so\.1$/, cuda: /^(libcudart|libcublas|libcublasLt|libcuda)\.so\.\d+$/ };

/** How build.mjs builds a variant: its --cpu, its --backends, its build folder and the build kind it reports. */
function buildOf(variant) {
  if (variant.kind !== "gpu") {
    if (!TARGETS.has(variant.name)) fail(`variant ${variant.name}: no CPU target of that name`);
    return { cpu: variant.name, backends: [], dir: `build-${variant.name}`, kind: variant.name };
  }
  const backends = Array.isArray(variant.backends) ? [...variant.backends].sort() : [];
  if (!TARGETS.has(variant.cpu) || backends.length === 0 || !backends.every((b) => GPU_BACKENDS.has(b))) {
    fail(
      `GPU variant ${variant.name}: expected "cpu" (one of ${[...TARGETS].join(", ")}) and "backends" (of ${[...GPU_BACKENDS].join(", ")}), got ${JSON.stringify({ cpu: variant.cpu, backends: variant.backends })}`,
    );
  }
  return {
    cpu: variant.cpu,
    backends,
    dir: `build-${[variant.cpu, ...backends].join("-")}`,
    kind: [variant.cpu, ...backends].join("+"),
  };
}

// The shared libraries a prebuilt addon may need: the C and C++ runtimes every glibc system has (Node needs them
// too), at most at the versions the README promises. ggml is linked in, and espeak-ng is loaded at run time.
const ALLOWED_NEEDED =
  /^(libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux[-\w.]*\.so\.\d)$/;

function checkNeeded(path, backends = []) {
  if (process.platform !== "linux") return;
  const dynamic = execFileSync("readelf", ["-d", path], { encoding: "utf8" });
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const allowed = (name) => ALLOWED_NEEDED.test(name) || backends.some((backend) => BACKEND_NEEDED[backend].test(name));
  const extra = needed.filter((name) => !allowed(name));
  if (extra.length > 0) fail(`${path} needs shared libraries beyond the C library: ${extra.join(", ")}`);
  const versions = execFileSync("objdump", ["-T", path], { encoding: "utf8" });
  const newest = (pattern) =>
    [...versions.matchAll(pattern)]
      .map((m) => m.slice(1).map(Number))
      .sort((a, b) => b[0] - a[0] || b[1] - a[1] || (b[2] ?? 0) - (a[2] ?? 0))[0]
      ?.join(".") ?? "none";
  const linked = { needed, glibc: newest(/GLIBC_(\d+)\.(\d+)/g), glibcxx: newest(/GLIBCXX_(\d+)\.(\d+)\.(\d+)/g) };
  if (linked.glibc !== "none" && newerThan(linked.glibc, MAX_GLIBC))
    fail(`${path} needs glibc ${linked.glibc}: at most ${MAX_GLIBC} is allowed`);
  if (linked.glibcxx !== "none" && newerThan(linked.glibcxx, MAX_GLIBCXX)) {
    fail(`${path} needs GLIBCXX ${linked.glibcxx}: at most ${MAX_GLIBCXX} (GCC 12's libstdc++) is allowed`);
  }
  return linked;
}

function newerThan(version, limit) {
  const a = version.split(".").map(Number);
  const b = limit.split(".").map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference > 0;
  }
  return false;
}

// What the README promises a Linux binary needs (Debian 12, Ubuntu 22.04, Fedora 36 and newer have it).
const MAX_GLIBC = "2.34";
const MAX_GLIBCXX = "3.4.30";

function checkLoads(path, version, target) {
  const script =
    "const i = require(process.argv[1]).systemInfo(); process.stdout.write(JSON.stringify([i.version, i.build]));";
  const result = spawnSync(process.execPath, ["-e", script, path], { encoding: "utf8", timeout: 30_000 });
  if (result.status !== 0) fail(`${path} does not load: ${result.stderr.trim().split("\n")[0] || result.signal}`);
  const [got, build] = JSON.parse(result.stdout);
  if (got !== version) fail(`${path} is version ${got}, the package is ${version}`);
  if (build !== target) fail(`${path} was built for ${build}, expected ${target}`);
}

// pnpm as the package manager running this script gives it (npm_execpath), else from PATH.
function packCommand(tool) {
  const exec = process.env.npm_execpath;
  if (tool === "pnpm" && exec && /pnpm\.c?js$/.test(exec)) return [process.execPath, [exec]];
  return tool === "npm" ? npmCommand() : [tool, []];
}

function pack(dir, out, tool = "pnpm") {
  const [command, prefix] = packCommand(tool);
  const result = spawnSync(command, [...prefix, "pack", "--pack-destination", out], { cwd: dir, encoding: "utf8" });
  if (result.error) fail(`${tool} pack in ${relative(root, dir)} could not start: ${result.error.message}`);
  if (result.status !== 0) fail(`${tool} pack in ${relative(root, dir)} failed:\n${result.stdout}${result.stderr}`);
  const line = result.stdout.trim().split("\n").at(-1);
  log(`packed ${relative(root, dir) || "."} → ${relative(root, join(out, basename(line)))}`);
}

const options = parseArgs(process.argv.slice(2));
const key = platformKey();
const packageDir = join(nativeDir, "platforms", key);
if (!existsSync(join(packageDir, "package.json"))) {
  // Staging is a step of the test run (turbo), which must go on where no prebuilt package exists (its tests skip).
  if (options.stageOnly) {
    log(`there is no platform package for ${key} (native/platforms/): nothing to stage`);
    process.exit(0);
  }
  fail(`there is no platform package for ${key} (native/platforms/)`);
}
const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
const nativeVersion = JSON.parse(readFileSync(join(nativeDir, "package.json"), "utf8")).version;
if (manifest.version !== nativeVersion)
  fail(`${manifest.name} is ${manifest.version}, @vall-e/native is ${nativeVersion}`);

const { os, cpu, libc, variants } = manifest["vall-e"];
for (const name of options.variants) {
  if (!variants.some((v) => v.name === name)) fail(`${manifest.name} has no variant ${name}`);
}
const stage = join(nativeDir, "build-packages", key);
mkdirSync(stage, { recursive: true });
for (const variant of variants) {
  const target = variant.name;
  const build = buildOf(variant);
  const dest = join(stage, variant.file);
  if (!options.packOnly && (options.variants.length === 0 || options.variants.includes(target))) {
    log(`building ${manifest.name} ${target}`);
    const flags = ["--cpu", build.cpu, ...(build.backends.length > 0 ? ["--backends", build.backends.join(",")] : [])];
    const built = spawnSync(process.execPath, [join(nativeDir, "scripts", "build.mjs"), ...flags], {
      cwd: nativeDir,
      stdio: "inherit",
    });
    if (built.status !== 0) fail(`the ${target} build failed`);
    copyFileSync(join(nativeDir, build.dir, "Release", "vall_e.node"), dest);
  } else if (!existsSync(dest)) {
    fail(
      `${relative(root, dest)} is not built (run \`pnpm --filter @vall-e/native build:prebuilt\`, or pack without --pack-only)`,
    );
  }
  // A variant this CPU cannot run (AVX-512 on a machine without it) is not loaded here: it would die of SIGILL.
  const lacks = missingFlags(variant, cpuFlags());
  if (lacks === undefined || lacks.length === 0) checkLoads(dest, nativeVersion, build.kind);
  const linked = checkNeeded(dest, build.backends);
  const loads = lacks?.length ? `not loaded (this CPU lacks ${lacks.join(", ")})` : "loads";
  log(
    `${variant.file}: ${loads}, ${build.kind}${linked ? `, needs ${linked.needed.join(" ")}, glibc ≥ ${linked.glibc}, GLIBCXX ≥ ${linked.glibcxx}` : ""}`,
  );
}
// The workspace copy is private (so that `changeset publish` leaves it alone: it has no binaries); the staged one is
// what scripts/publish-native.mjs publishes.
const { "vall-e": layout, private: _private, ...fields } = manifest;
const staged = {
  ...fields,
  os,
  cpu,
  ...(libc ? { libc } : {}),
  "vall-e": { variants: layout.variants },
  publishConfig: { access: "public" },
};
writeFileSync(join(stage, "package.json"), `${JSON.stringify(staged, null, 2)}\n`);
copyFileSync(join(root, "LICENSE"), join(stage, "LICENSE"));
writeFileSync(
  join(stage, "README.md"),
  `# ${manifest.name}\n\n${manifest.description}\n\n@vall-e/native loads it (see its README: how the binary is chosen, and \`vall-e doctor\`).\n`,
);

if (options.stageOnly) process.exit(0);

mkdirSync(options.out, { recursive: true });
for (const entry of readdirSync(options.out)) if (entry.endsWith(".tgz")) rmSync(join(options.out, entry));
// npm, not pnpm: the staged folder is not a workspace package, and its manifest has no workspace ranges.
pack(stage, options.out, "npm");

if (options.all) {
  const dirs = [nativeDir, ...readdirSync(join(root, "packages")).map((name) => join(root, "packages", name))];
  for (const dir of dirs) {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    if (pkg.private) continue;
    if (!existsSync(join(dir, "dist", "index.js")))
      fail(`${pkg.name} is not built (${relative(root, dir)}/dist): run \`pnpm build\` first`);
    pack(dir, options.out);
  }
}
