// The LM on a GPU backend against the CPU: the Vulkan build of the addon (native/build-x86-64-v3-vulkan, made by turbo before
// these tests: @vall-e/native#build:vulkan) on lavapipe, Mesa's software Vulkan driver. Every shared LM case, as a
// forward pass and as a KV-cache prefill plus one step, runs in its own child process (test/devices/agreement.ts) on
// that build's CPU and Vulkan devices.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fixture } from "@tooling/config/fixtures";
import { runVulkanChild, VULKAN_ADDON } from "@tooling/config/vulkan-child";
import { describe, expect, it } from "vitest";
import type { Agreement } from "./devices/agreement.js";

const script = fileURLToPath(new URL("./devices/agreement.ts", import.meta.url));
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const dir = fixture("lm");

describe.skipIf(!dir.present)(`LM on Vulkan (lavapipe) vs the CPU, in the Vulkan build ${dir.reason}`, () => {
  const manifest = dir.present
    ? (JSON.parse(readFileSync(`${dir.path}/manifest.json`, "utf8")) as { cases: { name: string; mode: string }[] })
    : { cases: [] };

  it("the Vulkan build is there (turbo builds it before these tests)", () => {
    const hint = `${VULKAN_ADDON}: build it with \`pnpm --filter @vall-e/native build:vulkan\``;
    expect(existsSync(VULKAN_ADDON), hint).toBe(true);
  });

  for (const c of manifest.cases) {
    for (const path of ["forward", "cache"] as const) {
      const what = path === "forward" ? "forward" : "KV-cache prefill and step";
      it(`${c.name} (${c.mode}), ${what}: within 2e-3 of the largest logit, the same argmax on every row`, async () => {
        const args = [`${dir.path}/valle_tiny_random_f16.gguf`, dir.path, "vulkan", c.name, path];
        const result = await runVulkanChild<Agreement>(script, args, { cwd: packageDir });
        expect(result.device).toBe("vulkan:0");
        expect(result.deviceName).toMatch(/llvmpipe/);
        expect(result.cases.map((r) => r.path)).toEqual([path]);
        const [r] = result.cases as [Agreement["cases"][number]];
        // Measured: 3.7e-4 – 1.3e-3 absolute, logits up to 1.43 (ggml-vulkan keeps f32 matmul tiles in f16).
        const label = `max |Vulkan − CPU| ${r.maxAbs}, largest logit ${r.maxLogit}`;
        expect(r.maxAbs / r.maxLogit, label).toBeLessThanOrEqual(2e-3);
        expect(r.argmax, "argmax").toBe(true);
        if (path === "cache") expect(result.copyEqual, "a copied device cache steps to the same logits").toBe(true);
      }, 300_000);
    }
  }
});
