// --device and the doctor's device lines: on the CPU-only build (a device it lacks is a usage error, nothing
// written) and on the Vulkan build with lavapipe visible (listed as software; auto still picks the CPU).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { VULKAN_ADDON } from "@tooling/config/vulkan-child";
import { describe, expect, it } from "vitest";
import { EXIT_USAGE } from "../src/exit-codes.js";
import { offlineEnv, vallE } from "./processes.js";

const dir = tempDir("cli-devices-");
const env = offlineEnv(dir);
const limits = ["--max-steps", "2", "--max-duration", "0.4", "--lang", "en", "-t", "2"];

// A source build made with VALL_E_BACKENDS has more devices: these tests are the CPU-only build's (CI's default).
const build = JSON.parse((await vallE(["doctor", "--json"], env)).stdout || "{}") as {
  addon?: { ggml?: { build?: string } };
};
const cpuOnly = !(build.addon?.ggml?.build ?? "").includes("+");

describe.skipIf(!cpuOnly)("--device", () => {
  it("a device this build lacks exits 2 naming what it has and how to build the backend; nothing is written", async () => {
    const out = join(dir, "vulkan.wav");
    const result = await vallE(["tts", "Hello.", "--model", "tiny", "--device", "vulkan", "-o", out, ...limits], env);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain('error: device "vulkan": no vulkan device here (this build has: cpu (');
    expect(result.stderr).toContain("build it with VALL_E_BACKENDS=vulkan");
    expect(existsSync(out)).toBe(false);
    const bad = await vallE(["generate", "--phonemes", "x.json", "--device", "gpu0", "-o", join(dir, "x.npy")], env);
    expect(bad.code).toBe(EXIT_USAGE);
    expect(bad.stderr).toContain(
      "error: option '--device <device>' argument 'gpu0' is invalid. expected auto, cpu, vulkan[:N], cuda[:N] or metal[:N]",
    );
    // Checked before the inputs are read: the phonemes file does not exist either.
    const absent = await vallE(
      ["generate", "--phonemes", "x.json", "--device", "cuda:3", "-o", join(dir, "y.npy")],
      env,
    );
    expect(absent.code).toBe(EXIT_USAGE);
    expect(absent.stderr).toContain('device "cuda:3": no cuda device here');
  });

  it("--device cpu speaks, and run.json records the device", async () => {
    const out = join(dir, "cpu.wav");
    const artifacts = join(dir, "artifacts");
    const result = await vallE(
      ["tts", "Hello.", "--model", "tiny", "--device", "cpu", "-o", out, "--artifacts", artifacts, ...limits],
      env,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    const run = JSON.parse(readFileSync(join(artifacts, "run.json"), "utf8"));
    expect(run.device).toMatchObject({ spec: "cpu", name: "CPU" });
  });
});

describe("vall-e doctor's devices", () => {
  it.skipIf(!cpuOnly)("the CPU-only build: one device, the one auto picks", async () => {
    const result = await vallE(["doctor", "--json"], env);
    const report = JSON.parse(result.stdout);
    expect(report.addon.devices).toEqual([expect.objectContaining({ spec: "cpu", kind: "cpu", software: false })]);
    expect(report.addon.autoDevice).toBe("cpu");
    const text = await vallE(["doctor"], env);
    expect(text.stdout).toMatch(/ {5}device {5}cpu: .* \(cpu, [\d.]+ GiB\), the one --device auto picks/);
  });

  it("the Vulkan build with lavapipe visible: vulkan:0 listed as software, auto still the CPU", async () => {
    expect(existsSync(VULKAN_ADDON), VULKAN_ADDON).toBe(true);
    const vulkan = { ...env, VALL_E_NATIVE_PATH: VULKAN_ADDON, GGML_VK_VISIBLE_DEVICES: "0" };
    const result = await vallE(["doctor", "--json"], vulkan);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.addon.ggml.build).toMatch(/\+vulkan$/);
    expect(report.addon.devices.map((d: { spec: string }) => d.spec)).toEqual(["vulkan:0", "cpu"]);
    expect(report.addon.devices[0]).toMatchObject({ kind: "gpu", software: true });
    expect(report.addon.devices[0].description).toMatch(/llvmpipe/);
    expect(report.addon.autoDevice).toBe("cpu");
    const text = await vallE(["doctor"], vulkan);
    expect(text.stdout).toMatch(/device {5}vulkan:0: llvmpipe.* \(gpu, software, [\d.]+ GiB\)\n/);
    // Without GGML_VK_VISIBLE_DEVICES ggml leaves the software device out.
    const hidden = JSON.parse((await vallE(["doctor", "--json"], { ...env, VALL_E_NATIVE_PATH: VULKAN_ADDON })).stdout);
    expect(hidden.addon.devices.map((d: { spec: string }) => d.spec)).toEqual(["cpu"]);
  });
});
