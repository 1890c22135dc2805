/** The Vulkan build's addon (native/build-x86-64-v3-vulkan/Release/vall_e.node on x64, build-armv8-vulkan on arm64: build:vulkan, the prebuilt package's vulkan variant). */
export declare const VULKAN_ADDON: string;

/**
 * Run `script` (TypeScript, with tsx's loader) with `args` under the Vulkan build on lavapipe and parse the one JSON
 * line it prints. A child killed by a signal (lavapipe's own use-after-free) is run again, at most `attempts` times in
 * all (default 3).
 */
export declare function runVulkanChild<T>(
  script: string,
  args: readonly string[],
  options: { cwd: string; timeoutMs?: number; attempts?: number },
): Promise<T>;
