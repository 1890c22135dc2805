// The whole request on a GPU backend against the CPU: the same text and seed on an Engine on lavapipe (the Vulkan
// build, see @tooling/config/vulkan-child) and one on the CPU, in one child process (test/devices/agreement.ts).
import { fileURLToPath } from "node:url";
import { tempDir } from "@tooling/config/temp-dir";
import { runVulkanChild } from "@tooling/config/vulkan-child";
import { describe, expect, it } from "vitest";
import type { GenerateAgreement } from "./devices/agreement.js";

const script = fileURLToPath(new URL("./devices/agreement.ts", import.meta.url));
const packageDir = fileURLToPath(new URL("..", import.meta.url));

describe("generate on Vulkan (lavapipe) vs the CPU, same seed (tiny random bundle)", () => {
  const run = (modality: string) =>
    runVulkanChild<GenerateAgreement>(script, [tempDir("vall-e-devices-"), "vulkan", modality], {
      cwd: packageDir,
      timeoutMs: 120_000,
    });

  it("AR+NAR gives the CPU's codes", async () => {
    const result = await run("ar+nar");
    expect(result.device).toBe("vulkan:0");
    const [arNar] = result.runs;
    expect(arNar?.shapes[1]).toEqual(arNar?.shapes[0]);
    // The AR's sampled tokens and the NAR levels' argmaxes all agree (measured: every code, on every run).
    expect(arNar).toMatchObject({ modality: "ar+nar", equal: 1 });
  }, 300_000);

  it("NAR-len gives the same shape, its codes as far as the first near-tie", async () => {
    const result = await run("nar-len");
    const [narLen] = result.runs;
    expect(narLen?.modality).toBe("nar-len");
    expect(narLen?.shapes[1]).toEqual(narLen?.shapes[0]);
    // This model's random weights make flat logits, so the device's ~1e-3 differences flip the first near-tie of
    // the first step's sampling, and every later step conditions on it (measured: 22.7 % of the codes equal, the same
    // on every run; between the CPU's own x86-64-v3 and AVX-512 builds it is 10.7 %).
    expect(narLen?.equal).toBeGreaterThan(0);
  }, 300_000);
});
