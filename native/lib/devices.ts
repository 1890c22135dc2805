/**
 * Compute devices: what this build of the addon can run on (ggml's backend registry: the CPU, and Vulkan, CUDA or
 * Metal devices when compiled in), and the `--device` / `{ device }` choice turned into one of them.
 *
 *   auto         the first real GPU (CUDA before Vulkan, ggml's order), else the CPU; never a software device
 *   cpu          the CPU
 *   vulkan[:N]   the Nth Vulkan device (default 0); likewise cuda[:N], metal[:N]
 */

import { VallEError } from "@vall-e/core";
import { binding } from "./binding.js";

export type DeviceKind = "cpu" | "gpu" | "igpu" | "accelerator";

export interface DeviceInfo {
  /** The index the native core takes (ggml's registry order). */
  index: number;
  /** ggml's name: "CPU", "Vulkan0", "CUDA0". */
  name: string;
  /** The driver's description: "NVIDIA GeForce RTX 4090", "llvmpipe (LLVM 15.0.6, 256 bits)". */
  description: string;
  /** The backend, lower-case as `--device` spells it: "cpu", "vulkan", "cuda", "metal". */
  backend: string;
  /** Its index among its backend's devices (the N of vulkan:N). */
  backendIndex: number;
  kind: DeviceKind;
  /** A software implementation running on the CPU (lavapipe, SwiftShader): usable, never chosen by "auto". */
  software: boolean;
  /** Bytes of memory free and in all (the host's for the CPU). */
  memoryFree: number;
  memoryTotal: number;
  /** How --device names it: "cpu", "vulkan:0". */
  spec: string;
}

/** A device that could not be chosen: an unknown spec, a backend this build lacks, an index out of range. */
export class DeviceError extends VallEError {
  constructor(message: string) {
    super("ERR_DEVICE", message);
  }
}

const KINDS: DeviceKind[] = ["cpu", "gpu", "igpu", "accelerator"];
export const DEVICE_BACKENDS = ["cpu", "vulkan", "cuda", "metal"] as const;

let cached: DeviceInfo[] | undefined;

/** Every device of this build, in ggml's order (GPUs first, the CPU last). Loads the addon; made once. */
export function listDevices(): DeviceInfo[] {
  cached ??= binding()
    .devices()
    .map((device) => {
      const backend = device.backend.toLowerCase();
      return {
        ...device,
        backend,
        kind: KINDS[device.type] ?? "accelerator",
        spec: backend === "cpu" ? "cpu" : `${backend}:${device.backendIndex}`,
      };
    });
  return cached.map((device) => ({ ...device }));
}

/** The index the native core takes for a device: −1 for the CPU (its own path, weights in place). */
export function nativeIndex(device: DeviceInfo): number {
  return device.kind === "cpu" ? -1 : device.index;
}

function describe(devices: DeviceInfo[]): string {
  return devices.map((d) => `${d.spec} (${d.description}${d.software ? ", software" : ""})`).join(", ");
}

/**
 * The device a spec names (default "auto"). Throws DeviceError (ERR_DEVICE) naming the spec, what is accepted and
 * the devices this build has.
 */
export function resolveDevice(spec: string = "auto"): DeviceInfo {
  if (typeof spec !== "string") {
    throw new DeviceError(`device: expected auto, cpu, vulkan[:N], cuda[:N] or metal[:N], got ${typeof spec}`);
  }
  const devices = listDevices();
  const cpu = devices.find((d) => d.kind === "cpu");
  if (!cpu) throw new DeviceError("this build of the native addon lists no CPU device");
  const text = spec.trim().toLowerCase();
  if (text === "auto") {
    return devices.find((d) => (d.kind === "gpu" || d.kind === "igpu") && !d.software) ?? cpu;
  }
  if (text === "cpu") return cpu;
  const match = /^(vulkan|cuda|metal)(?::(\d+))?$/.exec(text);
  if (!match) {
    throw new DeviceError(
      `device: expected auto, cpu, vulkan[:N], cuda[:N] or metal[:N], got ${JSON.stringify(spec)} (this build has: ${describe(devices)})`,
    );
  }
  const [, backend, number] = match;
  const index = number === undefined ? 0 : Number(number);
  const ofBackend = devices.filter((d) => d.backend === backend);
  if (ofBackend.length === 0) {
    const hint =
      backend === "vulkan"
        ? backendHint("vulkan", "VALL_E_BACKENDS=vulkan (needs libvulkan-dev, glslc and spirv-headers)")
        : backend === "cuda"
          ? backendHint("cuda", "VALL_E_BACKENDS=cuda (needs the CUDA toolkit)")
          : "Metal is not built in yet";
    throw new DeviceError(
      `device ${JSON.stringify(spec)}: no ${backend} device here (this build has: ${describe(devices)}); ${hint}`,
    );
  }
  const device = ofBackend.find((d) => d.backendIndex === index);
  if (!device) {
    throw new DeviceError(
      `device ${JSON.stringify(spec)}: expected ${backend}:0 … ${backend}:${ofBackend.length - 1}, got index ${index} (${describe(ofBackend)})`,
    );
  }
  return device;
}

function backendHint(backend: string, build: string): string {
  const compiled = binding().systemInfo().build.split("+").includes(backend);
  return compiled
    ? `the ${backend} backend is compiled in but found no device (no driver${backend === "vulkan" ? "; a software driver is used only when GGML_VK_VISIBLE_DEVICES names it" : ""})`
    : `this build has no ${backend} backend: build it with ${build}`;
}
