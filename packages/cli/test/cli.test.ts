import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CancelledError, InvalidArgumentError, NativeError } from "@vall-e/native";
import { describe, expect, it } from "vitest";
import { EXIT_CANCELLED, EXIT_FAILURE, EXIT_USAGE, exitCodeFor } from "../src/exit-codes.js";

const bin = fileURLToPath(new URL("../bin/vall-e.js", import.meta.url));
const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string })
  .version;

function vallE(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const missingAddon = { VALL_E_NATIVE_ADDON: "/nonexistent/vall_e.node" };

describe("vall-e", () => {
  it("--version prints the version on stdout", () => {
    expect(vallE(["--version"])).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("--help works without the native addon", () => {
    const result = vallE(["--help"], missingAddon);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: vall-e [options] [command]");
    expect(result.stdout).toContain("doctor");
    expect(result.stderr).toBe("");
  });

  it("doctor --json prints one JSON document with ggml's view of the machine", () => {
    const result = vallE(["doctor", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      ok: true,
      version,
      node: { ok: true, version: process.version },
      addon: { ok: true, ggml: { version: "0.25.1", commit: "de3ff81" } },
      espeakNg: { ok: true },
    });
    expect(report.addon.ggml.defaultThreads).toBeGreaterThanOrEqual(1);
    expect(report.models.cacheDir).toMatch(/vall-e$/);
  });

  it("doctor reports a missing addon, with what to do, and exits 1", () => {
    const result = vallE(["doctor", "--json"], missingAddon);
    expect(result.code).toBe(EXIT_FAILURE);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(false);
    expect(report.addon).toMatchObject({
      ok: false,
      path: missingAddon.VALL_E_NATIVE_ADDON,
      error: { code: "ERR_NATIVE_NOT_BUILT" },
    });
    expect(report.addon.error.message).toContain("pnpm --filter @vall-e/native build");

    const human = vallE(["doctor"], missingAddon);
    expect(human.code).toBe(EXIT_FAILURE);
    expect(human.stdout).toContain("FAIL addon      The vall-e native addon is not built");
  });

  it("doctor prints a readable report", () => {
    const result = vallE(["doctor"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ok {3}addon/);
    expect(result.stdout).toContain("ggml       0.25.1 (de3ff81)");
    expect(result.stdout).toContain("everything vall-e needs is here");
  });

  it("a usage error exits 2 with the message on stderr and nothing on stdout", () => {
    const unknownOption = vallE(["doctor", "--bogus"]);
    expect(unknownOption.code).toBe(EXIT_USAGE);
    expect(unknownOption.stdout).toBe("");
    expect(unknownOption.stderr).toContain("error: unknown option '--bogus'");

    const unknownCommand = vallE(["speak"]);
    expect(unknownCommand.code).toBe(EXIT_USAGE);
    expect(unknownCommand.stderr).toContain("error: unknown command 'speak'");
  });
});

describe("exitCodeFor", () => {
  it("maps validation to 2, cancellation to 130 and everything else to 1", () => {
    expect(exitCodeFor(new InvalidArgumentError("Expected x for y, got z"))).toBe(EXIT_USAGE);
    expect(exitCodeFor(new CancelledError())).toBe(EXIT_CANCELLED);
    expect(exitCodeFor(new DOMException("aborted", "AbortError"))).toBe(EXIT_CANCELLED);
    expect(exitCodeFor(new NativeError("VALL_E_ERR_COMPUTE", "ggml failed"))).toBe(EXIT_FAILURE);
    expect(exitCodeFor(new Error("boom"))).toBe(EXIT_FAILURE);
  });
});
