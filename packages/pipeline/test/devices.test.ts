// The whole request on a GPU backend against the CPU: the same text and seed on an Engine on lavapipe (the Vulkan
// build, see @tooling/config/vulkan-child) and one on the CPU, in one child process (test/devices/agreement.ts).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "@tooling/config/temp-dir";
import { runVulkanChild } from "@tooling/config/vulkan-child";
import { describe, expect, it } from "vitest";
import { tinyBundle } from "../src/models/tiny.js";
import { replay } from "../src/replay.js";
import { synthesize } from "../src/synthesize.js";
import type { GenerateAgreement } from "./devices/agreement.js";

const script = fileURLToPath(new URL("./devices/agreement.ts", import.meta.url));
const packageDir = fileURLToPath(new URL("..", import.meta.url));

describe("generate on Vulkan (lavapipe) vs the CPU, same seed (tiny random bundle)", () => {
  const run = (modality: string) =>
    runVulkanChild<GenerateAgreement>(script, [tempDir("vall-e-devices-"), "vulkan", modality], {
      cwd: packageDir,
      timeoutMs: 120_000,
      // A whole request builds pipelines for several kinds of graph (length, NAR-len and NAR steps, Vocos) in one
      // process, where lavapipe's use-after-free is likelier: measured, the NAR-len child dies by SIGABRT or SIGSEGV
      // in 3 of 8 runs (4 of 8 with LP_NUM_THREADS=0). Ten attempts in all (all ten dying by chance: ~0.03 %); a
      // crash of ours would repeat, and fail.
      attempts: 10,
    });

  it("AR+NAR: the first sentence gives the CPU's codes; two sentences batched on the device, as one by one there", async () => {
    const result = await run("ar+nar");
    expect(result.device).toBe("vulkan:0");
    const [arNar] = result.runs;
    expect(arNar?.shapes[1]).toEqual(arNar?.shapes[0]);
    // The CPU's auto, the device's batch of 2, the device's auto: 1 on a software device (GPU_SENTENCE_BATCH is
    // for a real GPU). The device's batch of two sentences gives the codes it gives them one by one.
    expect(arNar?.sentenceBatch).toEqual([1, 2, 1]);
    expect(arNar?.batchGivesOneByOne).toBe(true);
    // The first sentence's AR samples and NAR argmaxes all agree with the CPU's. The second's AR (temperature 1 over
    // this random model's flat logits) meets a sample the device's ~1e-3 flips, and conditions on it from there
    // (measured, the same on every run: 20.2 % of its codes equal against this x86-64-v3 build's CPU; 99.8 % against
    // the AVX-512 build's, which rounds differently).
    expect(arNar?.sentencesEqual[0]).toBe(1);
    expect(arNar?.firstFrameEqual).toBe(true);
  }, 300_000);

  it("NAR-len gives the same shape, its codes as far as the first near-tie", async () => {
    const result = await run("nar-len");
    const [narLen] = result.runs;
    expect(narLen?.modality).toBe("nar-len");
    expect(narLen?.shapes[1]).toEqual(narLen?.shapes[0]);
    // This model's random weights make flat logits, so the device's ~1e-3 differences flip the first near-tie of
    // the first step's sampling, and every later step conditions on it (measured: 22.7 % of the codes equal, the same
    // on every run; between the CPU's own x86-64-v3 and AVX-512 builds it is 10.7 %).
    expect(narLen?.equal).toBeGreaterThanOrEqual(0.15);
  }, 300_000);
});

describe("the device in synthesize, replay and run.json (this build's CPU)", () => {
  it("records the device; replays on it; a device this build lacks is refused before any file is read", async () => {
    const dir = tempDir("vall-e-devices-run-");
    const tiny = await tinyBundle(join(dir, "tiny"));
    const models = { lm: tiny.lm, codec: tiny.codec, tokenizer: tiny.tokenizer, vocos: tiny.vocos };
    const settings = { language: "en" as const, sampling: { maxSteps: 2 }, maxDuration: 0.4 };
    const artifactsDir = join(dir, "run");
    await synthesize({ ...settings, text: "Hi.", models, seed: 3, artifactsDir, device: "cpu" });
    const runPath = join(artifactsDir, "run.json");
    const run = JSON.parse(readFileSync(runPath, "utf8"));
    expect(run.device).toMatchObject({ spec: "cpu", name: "CPU" });

    // Before any file is read: the prompt codes named here do not exist, and the device is what is refused.
    await expect(
      synthesize({ ...settings, text: "Hi.", models, promptCodes: join(dir, "absent.npy"), device: "vulkan" }),
    ).rejects.toMatchObject({
      code: "ERR_DEVICE",
      message: expect.stringContaining('device "vulkan": no vulkan device'),
    });

    // A run recorded on a device this build lacks replays only with another one named.
    writeFileSync(runPath, JSON.stringify({ ...run, device: { spec: "vulkan:0", name: "Vulkan0", description: "x" } }));
    await expect(replay(runPath)).rejects.toMatchObject({ code: "ERR_DEVICE" });
    const again = await replay(runPath, { device: "cpu" });
    expect(again.audio.length).toBeGreaterThan(0);
  }, 120_000);
});
