import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { DEFAULT_ADDON_PATH, loadNativeAddon, NativeLoadError, systemInfo } from "../lib/index.js";
import { writeCApiCases } from "./c-api-cases.js";
import { writeTinyEncodec } from "./tiny-encodec.js";
import { writeTinyLm } from "./tiny-lm.js";

describe("native addon", () => {
  it("loads and reports the pinned ggml and this machine's cores", () => {
    const info = systemInfo();
    expect(info.ggmlVersion).toBe("0.25.1");
    expect(info.ggmlCommit).toBe("de3ff81");
    expect(info.napiVersion).toBe(8);
    expect(["native", "x86-64-v3", "avx512", "armv8"]).toContain(info.build);
    expect(info.physicalCores).toBeGreaterThanOrEqual(1);
    expect(info.logicalCores).toBeGreaterThanOrEqual(info.physicalCores);
    expect(info.defaultThreads).toBe(info.physicalCores);
    expect(Array.isArray(info.cpuFeatures)).toBe(true);
  });

  it("is never built with AMX (its tile instructions fault on these machines)", () => {
    expect(systemInfo().cpuFeatures).not.toContain("AMX_INT8");
  });

  it("names a missing file", () => {
    const path = join(tmpdir(), "no-such-dir", "vall_e.node");
    let caught: unknown;
    try {
      loadNativeAddon(path);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NativeLoadError);
    expect(caught).toMatchObject({ code: "ERR_NATIVE_NOT_BUILT" });
    expect((caught as Error).message).toBe(`The vall-e native addon ${path} does not exist.`);
  });

  it("names the file and the reason when it cannot be loaded", () => {
    const path = join(tempDir("vall-e-"), "vall_e.node");
    writeFileSync(path, "not a shared object");
    expect(() => loadNativeAddon(path)).toThrowError(
      expect.objectContaining({
        code: "ERR_NATIVE_LOAD_FAILED",
        message: expect.stringContaining(`The vall-e native addon at ${path} could not be loaded (`),
      }),
    );
  });

  it("the public C API, without Node, computes what the TypeScript path does (test/c-api-test.c)", async () => {
    const program = fileURLToPath(new URL("../build/vall_e_c_api_test", import.meta.url));
    expect(existsSync(program), `${program} is built with the addon`).toBe(true);
    expect(existsSync(DEFAULT_ADDON_PATH)).toBe(true);
    const dir = tempDir("vall-e-c-api-");
    const lm = writeTinyLm(dir);
    const codec = writeTinyEncodec(dir);
    const cases = join(dir, "c-api-cases.bin");
    await writeCApiCases(cases, lm, codec);
    const scratch = join(dir, "scratch");
    mkdirSync(scratch);
    const result = spawnSync(program, [lm, codec, cases, scratch], { encoding: "utf8", timeout: 30_000 });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout).toContain("c-api-test: all checks passed");
    expect(result.stderr, "ggml's log lines go to the program's callback").toBe("");
  });

  it("without libespeak-ng, the C API's espeak calls say what to install (VALL_E_ESPEAK_LIBRARY names a missing file)", () => {
    const program = fileURLToPath(new URL("../build/vall_e_c_api_test", import.meta.url));
    const missing = join(tempDir("vall-e-no-espeak-"), "libespeak-ng.so.1");
    const result = spawnSync(program, [], {
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, VALL_E_ESPEAK_LIBRARY: missing },
    });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout).toContain("3 UNAVAILABLE");
  });

  it("VALL_E_ESPEAK_LIBRARY naming a FIFO is refused at once, not opened (an open() there blocks for good)", () => {
    const program = fileURLToPath(new URL("../build/vall_e_c_api_test", import.meta.url));
    const fifo = join(tempDir("vall-e-espeak-fifo-"), "libespeak-ng.so.1");
    execFileSync("mkfifo", [fifo]);
    const result = spawnSync(program, [], {
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, VALL_E_ESPEAK_LIBRARY: fifo },
    });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout).toContain("3 UNAVAILABLE");
  });
});
