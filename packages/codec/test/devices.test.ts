// EnCodec and Vocos on a GPU backend against the CPU: the Vulkan build of the addon on lavapipe (see
// @tooling/config/vulkan-child), one check per child process (test/devices/agreement.ts).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fixture } from "@tooling/config/fixtures";
import { runVulkanChild, VULKAN_ADDON } from "@tooling/config/vulkan-child";
import { describe, expect, it } from "vitest";
import type { CodecAgreement } from "./devices/agreement.js";

const script = fileURLToPath(new URL("./devices/agreement.ts", import.meta.url));
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const encodec = fixture("encodec");
const vocos = fixture("vocos");

describe.skipIf(!encodec.present || !vocos.present)(
  `EnCodec and Vocos on Vulkan (lavapipe) vs the CPU ${encodec.reason || vocos.reason}`,
  () => {
    it("the Vulkan build is there (turbo builds it before these tests)", () => {
      expect(existsSync(VULKAN_ADDON), VULKAN_ADDON).toBe(true);
    });

    // Measured (relative to the largest CPU value): decode 1.0e-3, encode's latent 1.1e-3 (96 % of the codes equal:
    // the rest are nearest-code near-ties), Vocos 7.6e-4 — ggml-vulkan keeps f32 matmul tiles in f16.
    it.each([
      ["encodec-decode", "EnCodec decode of the seed-7 codes"],
      ["encodec-encode", "EnCodec encode of the prompt (latent; codes)"],
      ["vocos-decode", "Vocos decode of the seed-7 codes"],
    ])(
      "%s: %s within 2e-3 of the largest CPU value",
      async (check) => {
        const result = await runVulkanChild<CodecAgreement>(script, [encodec.path, vocos.path, "vulkan", check], {
          cwd: packageDir,
        });
        expect([result.check, result.device]).toEqual([check, "vulkan:0"]);
        expect(result.deviceName).toMatch(/llvmpipe/);
        expect(result.maxValue).toBeGreaterThan(0.1);
        expect(result.maxAbs / result.maxValue, `max |Vulkan − CPU| ${result.maxAbs}`).toBeLessThanOrEqual(2e-3);
        if (check === "encodec-encode") expect(result.equalCodes).toBeGreaterThanOrEqual(0.9);
      },
      300_000,
    );
  },
);
