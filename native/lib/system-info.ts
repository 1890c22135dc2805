import { binding, type NativeSystemInfo } from "./binding.js";

export interface SystemInfo extends Omit<NativeSystemInfo, "cpuFeatures"> {
  /** Features the CPU backend was compiled with, e.g. ["AVX2", "FMA", "F16C"]. */
  cpuFeatures: string[];
}

/** Versions, the CPU features the build uses, and the core counts threads default to. Loads the addon. */
export function systemInfo(): SystemInfo {
  const info = binding().systemInfo();
  return { ...info, cpuFeatures: info.cpuFeatures ? info.cpuFeatures.split(",") : [] };
}
