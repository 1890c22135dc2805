// Publish the staged platform packages (`pack-native.mjs` stages them in native/build-packages/<platform>/; the
// release workflow gathers every platform's into one folder). Run before `changeset publish`, which publishes
// @vall-e/native and the rest: the optional dependencies of @vall-e/native must exist on the registry first.
//
//   node native/scripts/publish-native.mjs [--from DIR] [--provenance] [--dry-run]
//
// Every platform of native/platforms/ must be staged, at the workspace's version, with every variant file it lists:
// a partial set is refused before anything is published. A package already on the registry at that version is
// skipped, so a release that failed half-way can be run again.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const nativeDir = resolve(fileURLToPath(new URL("..", import.meta.url)));

function fail(message) {
  process.stderr.write(`[publish-native] ${message}\n`);
  process.exit(1);
}

function log(message) {
  process.stderr.write(`[publish-native] ${message}\n`);
}

const argv = process.argv.slice(2);
const options = { from: join(nativeDir, "build-packages"), provenance: false, dryRun: false };
for (let i = 0; i < argv.length; i++) {
  const arg = argv[i];
  if (arg === "--from" && argv[i + 1]) options.from = resolve(argv[++i]);
  else if (arg === "--provenance") options.provenance = true;
  else if (arg === "--dry-run") options.dryRun = true;
  else fail(`unknown argument ${JSON.stringify(arg)} (expected --from DIR, --provenance, --dry-run)`);
}

const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));
const version = readJson(join(nativeDir, "package.json")).version;
const platforms = readdirSync(join(nativeDir, "platforms"))
  .filter((key) => existsSync(join(nativeDir, "platforms", key, "package.json")))
  .sort();

const problems = [];
const ready = [];
for (const key of platforms) {
  const template = readJson(join(nativeDir, "platforms", key, "package.json"));
  const dir = join(options.from, key);
  if (!existsSync(join(dir, "package.json"))) {
    problems.push(`${template.name}: not staged (${dir})`);
    continue;
  }
  const staged = readJson(join(dir, "package.json"));
  if (staged.name !== template.name || staged.version !== version) {
    problems.push(`${dir} holds ${staged.name}@${staged.version}, expected ${template.name}@${version}`);
    continue;
  }
  if (staged.private) problems.push(`${dir}: the staged manifest is private`);
  if (!Array.isArray(staged.os) || !Array.isArray(staged.cpu))
    problems.push(`${dir}: the staged manifest has no os/cpu`);
  const missing = template["vall-e"].variants.map((v) => v.file).filter((file) => !existsSync(join(dir, file)));
  if (missing.length > 0) problems.push(`${template.name}: ${missing.join(", ")} missing from ${dir}`);
  else ready.push({ name: template.name, dir });
}
if (problems.length > 0) fail(`nothing published — every platform must be staged first:\n  ${problems.join("\n  ")}`);

for (const { name, dir } of ready) {
  const view = spawnSync("npm", ["view", `${name}@${version}`, "version"], { encoding: "utf8" });
  if (view.status === 0 && view.stdout.trim() === version) {
    log(`${name}@${version} is already on the registry: skipped`);
    continue;
  }
  const args = ["publish", dir, "--access", "public", ...(options.provenance ? ["--provenance"] : [])];
  if (options.dryRun) args.push("--dry-run");
  log(`npm ${args.join(" ")}`);
  const result = spawnSync("npm", args, { stdio: "inherit" });
  if (result.status !== 0) fail(`publishing ${name}@${version} failed`);
}
