// Where ggml comes from: the official llama.cpp release that node-llama-cpp ships in its npm tarball as a git
// bundle. One exact version, checked twice (the tarball's sha512 and the bundle's commit). Nothing is vendored.
//
// prepareLlamaSource() returns the path of a llama.cpp source tree, preparing it under native/.deps/ if needed:
//   1. `npm pack node-llama-cpp@<version>` (the tarball only: no install scripts, no platform binary packages);
//   2. verify its sha512 against the pinned integrity;
//   3. extract llama/gitRelease.bundle, `git clone` it, verify HEAD is the pinned commit;
//   4. move the tree into place atomically and drop the tarball.
//   5. apply our patches (patches/*.patch, in name order), each checked to apply to the pristine tree.
// VALL_E_LLAMA_CPP_DIR points at an existing tree instead (offline work); it must be at the pinned commit, and the
// patches are applied to it too unless they already are.
// A patch is the only way a fix to ggml reaches the build (patches/README.md): the tree is re-made pristine and
// re-patched whenever the set of patches changes (the stamp records their digest).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { npmCommand } from "./npm-command.mjs";

export const LLAMA_SOURCE = Object.freeze({
  npmPackage: "node-llama-cpp",
  npmVersion: "3.22.1",
  npmIntegrity: "sha512-bltIipuWmc123H7tMIgDGKSsSrhmhlQYeVUC48XTjVW7XGJJiJJyCdlTMzQ/LiWoPkGDpcL4FviDpgw7qfTiDw==",
  bundlePath: "package/llama/gitRelease.bundle",
  llamaCppRelease: "v0.5.0",
  ggmlVersion: "0.25.1",
  commit: "de3ff815ea7d559ee917f063901b8986f038abc6",
});

const nativeDir = resolve(fileURLToPath(new URL("..", import.meta.url)));
export const DEPS_DIR = join(nativeDir, ".deps");
export const PATCHES_DIR = join(nativeDir, "patches");
const TREE = join(DEPS_DIR, `llama.cpp-${LLAMA_SOURCE.llamaCppRelease}`);
const STAMP = ".vall-e-source.json";

function log(message) {
  process.stderr.write(`[vall-e native] ${message}\n`);
}

function run(command, args, options = {}) {
  return execFileSync(command, args, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", ...options });
}

async function sha512Base64(path) {
  const hash = createHash("sha512");
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest("base64");
}

function headCommit(tree) {
  return run("git", ["-C", tree, "rev-parse", "HEAD"]).trim();
}

function checkTree(tree) {
  if (!existsSync(join(tree, "ggml", "CMakeLists.txt"))) {
    throw new Error(`${tree} is not a llama.cpp source tree (no ggml/CMakeLists.txt)`);
  }
}

/** Our patches to the pinned tree, in the order they apply, and one digest of them all. */
export function patchSet() {
  const files = existsSync(PATCHES_DIR)
    ? readdirSync(PATCHES_DIR)
        .filter((name) => name.endsWith(".patch"))
        .sort()
        .map((name) => join(PATCHES_DIR, name))
    : [];
  const hash = createHash("sha256");
  for (const file of files) hash.update(`${file.slice(PATCHES_DIR.length)}\0`).update(readFileSync(file));
  return { files, digest: files.length > 0 ? hash.digest("hex") : "none" };
}

function gitApply(tree, patch, extra) {
  execFileSync("git", ["-C", tree, "apply", "--whitespace=nowarn", ...extra, patch], {
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
  });
}

/** Apply every patch to `tree`; with `skipApplied`, a patch that is already in the tree is left alone. */
export function applyPatches(tree, files, { skipApplied = false } = {}) {
  for (const patch of files) {
    if (skipApplied) {
      try {
        gitApply(tree, patch, ["--reverse", "--check"]);
        continue; // already applied
      } catch {
        // not applied yet
      }
    }
    try {
      gitApply(tree, patch, ["--check"]);
    } catch (error) {
      throw new Error(`patch ${patch} does not apply to ${tree}: ${String(error.stderr ?? error.message).trim()}`);
    }
    gitApply(tree, patch, []);
    log(`applied ${patch.slice(nativeDir.length + 1)}`);
  }
}

// Builds that run side by side (turbo starts the CPU, oracle and Vulkan builds together) prepare the one shared tree
// in turn: a directory made atomically is the lock, with the holder's pid inside; a lock whose holder is gone is
// taken over.
const LOCK = join(DEPS_DIR, ".prepare.lock");

function holderAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

async function withTreeLock(body) {
  mkdirSync(DEPS_DIR, { recursive: true });
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, "pid"), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      let pid = Number.NaN;
      try {
        pid = Number(readFileSync(join(LOCK, "pid"), "utf8"));
      } catch {
        // the holder has made the directory but not written its pid yet
      }
      if (Number.isInteger(pid) && !holderAlive(pid)) {
        rmSync(LOCK, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${LOCK} has been held for 20 minutes (by pid ${pid}); remove it`);
      await new Promise((done) => setTimeout(done, 200));
    }
  }
  try {
    return await body();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

export function prepareLlamaSource() {
  return withTreeLock(prepareLocked);
}

async function prepareLocked() {
  const patches = patchSet();
  const override = process.env.VALL_E_LLAMA_CPP_DIR;
  if (override) {
    const tree = resolve(override);
    checkTree(tree);
    if (existsSync(join(tree, ".git")) && headCommit(tree) !== LLAMA_SOURCE.commit) {
      throw new Error(`VALL_E_LLAMA_CPP_DIR=${tree} is not at the pinned llama.cpp commit ${LLAMA_SOURCE.commit}`);
    }
    applyPatches(tree, patches.files, { skipApplied: true });
    return tree;
  }

  const stampPath = join(TREE, STAMP);
  if (existsSync(stampPath)) {
    const stamp = JSON.parse(readFileSync(stampPath, "utf8"));
    if (stamp.commit === LLAMA_SOURCE.commit) {
      if (stamp.patches === patches.digest) return TREE;
      // Another set of patches: back to the pinned sources (tracked files only), then this set.
      run("git", ["-C", TREE, "checkout", "--quiet", "--force", "HEAD", "--", "."]);
      run("git", ["-C", TREE, "clean", "--quiet", "-d", "--force", "--exclude", STAMP]); // files an old patch added
      applyPatches(TREE, patches.files);
      writeFileSync(stampPath, `${JSON.stringify({ ...LLAMA_SOURCE, patches: patches.digest }, null, 2)}\n`);
      return TREE;
    }
  }

  mkdirSync(DEPS_DIR, { recursive: true });
  const work = join(DEPS_DIR, `tmp-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work);
  try {
    const spec = `${LLAMA_SOURCE.npmPackage}@${LLAMA_SOURCE.npmVersion}`;
    log(`fetching llama.cpp ${LLAMA_SOURCE.llamaCppRelease} (ggml ${LLAMA_SOURCE.ggmlVersion}) from npm: ${spec}`);
    const [npm, npmArgs] = npmCommand();
    run(npm, [...npmArgs, "pack", spec, "--pack-destination", work, "--silent"], { cwd: work });
    const tarball = readdirSync(work).find((name) => name.endsWith(".tgz"));
    if (!tarball) throw new Error(`npm pack ${spec} produced no tarball`);
    const integrity = `sha512-${await sha512Base64(join(work, tarball))}`;
    if (integrity !== LLAMA_SOURCE.npmIntegrity) {
      throw new Error(`${spec}: integrity mismatch (expected ${LLAMA_SOURCE.npmIntegrity}, got ${integrity})`);
    }

    run("tar", ["-xzf", join(work, tarball), "-C", work, LLAMA_SOURCE.bundlePath]);
    const clone = join(work, "llama.cpp");
    run("git", ["-c", "advice.detachedHead=false", "clone", "--quiet", join(work, LLAMA_SOURCE.bundlePath), clone]);
    const head = headCommit(clone);
    if (head !== LLAMA_SOURCE.commit) {
      throw new Error(`the llama.cpp bundle in ${spec} is at ${head}, expected ${LLAMA_SOURCE.commit}`);
    }
    checkTree(clone);
    applyPatches(clone, patches.files);
    writeFileSync(join(clone, STAMP), `${JSON.stringify({ ...LLAMA_SOURCE, patches: patches.digest }, null, 2)}\n`);

    rmSync(TREE, { recursive: true, force: true });
    renameSync(clone, TREE);
    log(`llama.cpp source ready at ${TREE}`);
    return TREE;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  prepareLlamaSource().then(
    (tree) => process.stdout.write(`${tree}\n`),
    (error) => {
      process.stderr.write(`[vall-e native] ${error.message}\n`);
      process.exit(1);
    },
  );
}
