// Compute devices in the CPU-only build: the CPU alone, "auto" picks it, and every other spec is refused with a
// typed error naming what was asked, what is accepted and what this build has. (The Vulkan build on a software
// device is tested by packages/lm/test/devices.test.ts.)

import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { DeviceError, LmModel, listDevices, resolveDevice, systemInfo } from "../lib/index.js";
import { writeTinyLm } from "./tiny-lm.js";

// A source build made with VALL_E_BACKENDS has more devices: these tests are the CPU-only build's (CI's default).
const cpuOnly = !systemInfo().build.includes("+");

describe.skipIf(!cpuOnly)(
  `compute devices (the CPU-only build)${cpuOnly ? "" : ": skipped, this build has GPU backends"}`,
  () => {
    it("lists the CPU only, with its memory, and auto picks it", () => {
      expect(systemInfo().build).not.toContain("+");
      const devices = listDevices();
      expect(devices).toHaveLength(1);
      expect(devices[0]).toMatchObject({ spec: "cpu", name: "CPU", backend: "cpu", kind: "cpu", software: false });
      expect(devices[0]?.memoryTotal).toBeGreaterThan(2 ** 28);
      expect(resolveDevice("auto").spec).toBe("cpu");
      expect(resolveDevice().spec).toBe("cpu");
      expect(resolveDevice(" CPU ").spec).toBe("cpu");
    });

    it.each([
      [
        "vulkan",
        /device "vulkan": no vulkan device here \(this build has: cpu \(.*\)\); this build has no vulkan backend: build it with VALL_E_BACKENDS=vulkan/,
      ],
      ["cuda:1", /device "cuda:1": no cuda device here .*VALL_E_BACKENDS=cuda/],
      ["gpu", /device: expected auto, cpu, vulkan\[:N\], cuda\[:N\] or metal\[:N\], got "gpu" \(this build has: cpu/],
      ["vulkan:-1", /got "vulkan:-1"/],
      ["", /got ""/],
    ])("refuses %j with ERR_DEVICE", (spec, message) => {
      let caught: unknown;
      try {
        resolveDevice(spec);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(DeviceError);
      expect((caught as DeviceError).code).toBe("ERR_DEVICE");
      expect((caught as Error).message).toMatch(message);
    });

    it("an LM loaded on the CPU says so; one asked for a device this build lacks is refused before loading", async () => {
      const dir = tempDir("vall-e-devices-");
      const path = writeTinyLm(dir);
      await using model = await LmModel.load(path, { device: "auto" });
      expect(model.device.spec).toBe("cpu");
      expect([model.info.device, model.info.deviceBytes]).toEqual([-1, 0]);
      await expect(LmModel.load(path, { device: "vulkan:0" })).rejects.toMatchObject({ code: "ERR_DEVICE" });
      await expect(LmModel.load(path, { device: 7 as unknown as string })).rejects.toMatchObject({
        code: "ERR_DEVICE",
        message: "device: expected auto, cpu, vulkan[:N], cuda[:N] or metal[:N], got number",
      });
    });
  },
);
