import { writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import {
  cpuFlags,
  loadNative,
  NATIVE_VERSION,
  type NativeLoadError,
  type NativeVariant,
  platformKey,
  probeAddon,
  SOURCE_BUILD_PATH,
} from "../lib/index.js";
import { missingFlags } from "../lib/loader.js";

const V3: NativeVariant = {
  name: "x86-64-v3",
  file: "vall_e-x86-64-v3.node",
  kind: "cpu",
  requires: ["avx2", "fma", "f16c", "bmi2"],
};

describe("the native loader", () => {
  it("loads the source build in this repository, and says what it passed over", () => {
    const { report } = loadNative({});
    expect(report).toMatchObject({
      platform: platformKey(),
      path: SOURCE_BUILD_PATH,
      source: "source build",
      reason: "a source build of this package exists",
    });
    expect(report.attempts[0]).toEqual({
      candidate: "VALL_E_NATIVE_PATH",
      path: undefined,
      outcome: "skipped",
      reason: "not set",
    });
    expect(report.attempts.at(-1)).toMatchObject({ candidate: "source build", outcome: "loaded" });
  });

  it("takes VALL_E_NATIVE_PATH and nothing else: a missing or broken file is an error, not a fallback", () => {
    const missing = join(tempDir("vall-e-loader-"), "vall_e.node");
    expect(() => loadNative({ VALL_E_NATIVE_PATH: missing })).toThrowError(
      expect.objectContaining({
        code: "ERR_NATIVE_NOT_BUILT",
        message: `VALL_E_NATIVE_PATH is ${missing}, which does not exist. Point it at a built vall_e.node, or unset it to use the installed one.`,
      }),
    );
    writeFileSync(missing, "not a shared object");
    expect(() => loadNative({ VALL_E_NATIVE_PATH: missing })).toThrowError(
      expect.objectContaining({
        code: "ERR_NATIVE_LOAD_FAILED",
        message: expect.stringMatching(
          new RegExp(
            `^The vall-e native addon at ${missing} \\(VALL_E_NATIVE_PATH\\) could not be loaded \\(.*file too short\\)\\. Install the prebuilt binary`,
          ),
        ),
      }),
    );
    expect(loadNative({ VALL_E_NATIVE_PATH: SOURCE_BUILD_PATH }).report).toMatchObject({
      source: "VALL_E_NATIVE_PATH",
      reason: "VALL_E_NATIVE_PATH is set",
    });
    // A special file is refused before the dynamic loader would block on it (a FIFO) or read it forever (/dev/zero).
    expect(() => loadNative({ VALL_E_NATIVE_PATH: "/dev/zero" })).toThrowError(
      "VALL_E_NATIVE_PATH is /dev/zero, which is a device, not a built vall_e.node file.",
    );
    // A relative path is the user's: relative to the working directory, as a shell gives it.
    expect(loadNative({ VALL_E_NATIVE_PATH: relative(process.cwd(), SOURCE_BUILD_PATH) }).report.path).toBe(
      SOURCE_BUILD_PATH,
    );
  });

  it("with no binary that fits, lists every candidate and what to do", () => {
    // The workspace's copy of the platform package holds no .node file (the staged one in build-packages/ does):
    // forcing a variant passes the source build over and finds the variant missing.
    const key = platformKey();
    if (key !== "linux-x64-gnu") return; // the one platform whose package this test knows
    let caught: Error | undefined;
    try {
      loadNative({ VALL_E_NATIVE_VARIANT: "x86-64-v3" });
    } catch (error) {
      caught = error as Error;
    }
    expect(caught).toMatchObject({ code: "ERR_NATIVE_NOT_BUILT" });
    // The attempts travel with the error (vall-e doctor --json lists them).
    expect((caught as NativeLoadError).attempts.map((attempt) => attempt.outcome)).toEqual([
      "skipped",
      "skipped",
      "skipped",
      "skipped",
      "failed",
    ]);
    const message = caught?.message ?? "";
    expect(message).toContain(
      "No vall-e native addon fits this machine (linux-x64-gnu). Tried: VALL_E_NATIVE_PATH: not set;",
    );
    expect(message).toContain("source build (");
    expect(message).toContain("VALL_E_NATIVE_VARIANT=x86-64-v3 asks for a prebuilt variant");
    expect(message).toMatch(
      /@vall-e\/native-linux-x64-gnu vulkan \([^)]*vall_e-vulkan\.node\): VALL_E_NATIVE_VARIANT=x86-64-v3/,
    );
    expect(message).toMatch(
      /@vall-e\/native-linux-x64-gnu avx512 \([^)]*vall_e-avx512\.node\): VALL_E_NATIVE_VARIANT=x86-64-v3/,
    );
    expect(message).toMatch(/@vall-e\/native-linux-x64-gnu x86-64-v3 \([^)]*\): the file is missing from the package/);
    expect(message).toContain(
      `Install the prebuilt binary (\`npm install @vall-e/native-linux-x64-gnu@${NATIVE_VERSION}\`; it is an optional dependency of @vall-e/native, so an install with --omit=optional or --no-optional leaves it out), or build from source with \`vall-e build-native\``,
    );
    expect(() => loadNative({ VALL_E_NATIVE_VARIANT: "sse2" })).toThrowError(
      "VALL_E_NATIVE_VARIANT is sse2, but @vall-e/native-linux-x64-gnu has only vulkan, avx512, x86-64-v3.",
    );
  });

  it("chooses variants by the CPU's flags as /proc/cpuinfo gives them", () => {
    const haswell = cpuFlags("processor\t: 0\nflags\t\t: fpu sse4_2 avx avx2 fma f16c bmi2\n\n");
    expect(missingFlags(V3, haswell)).toEqual([]);
    const sandy = cpuFlags("flags\t: fpu sse4_2 avx\n");
    expect(missingFlags(V3, sandy)).toEqual(["avx2", "fma", "f16c", "bmi2"]);
    expect(missingFlags(V3, undefined), "unknown flags: the variant is probed in a child first").toBeUndefined();
    expect(missingFlags({ ...V3, requires: [] }, undefined)).toEqual([]);
    expect(cpuFlags("Features\t: fp asimd evtstrm aes\n")?.has("asimd")).toBe(true);
    if (process.platform === "linux") expect(cpuFlags()?.size).toBeGreaterThan(0);
  });

  it("probes a binary in a child process: a good one reports its version and GPUs, a bad one the reason", () => {
    // The CPU build has no GPU (packages/cli/test/install probes the Vulkan variant).
    expect(probeAddon(SOURCE_BUILD_PATH)).toEqual({ ok: true, version: NATIVE_VERSION, gpus: [] });
    const junk = join(tempDir("vall-e-probe-"), "junk.node");
    writeFileSync(junk, "\x7fELF but not really");
    const probe = probeAddon(junk);
    expect(probe.ok).toBe(false);
    expect(probe.ok ? "" : probe.reason).toMatch(/^it fails to load \(.*Error/);
    // A binary that kills the process that loads it (here: one that aborts) takes the probe down, not this process.
    const aborting = join(tempDir("vall-e-probe-"), "abort.cjs");
    writeFileSync(aborting, "process.abort();");
    const killed = probeAddon(aborting);
    expect(killed).toEqual({ ok: false, reason: "loading it killed the probe process (SIGABRT)" });
  });
});
