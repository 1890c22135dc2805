// The GPU-backend agreement tests' child processes: a TypeScript script run by node with tsx's loader, under the
// Vulkan build of the addon (native/build-x86-64-v3-vulkan, the prebuilt package's vulkan variant) on lavapipe, Mesa's software Vulkan driver (ggml uses a software
// device only when GGML_VK_VISIBLE_DEVICES names it). Each child prints one JSON line.
//
// lavapipe (Mesa 22.3) has a use-after-free: valgrind shows one of its threads reading a block that
// vkCreateComputePipelines freed (ggml-vulkan creates pipelines as a graph first needs them). A process that evaluates
// a second kind of graph — an LM forward, then a prefill into the KV cache — dies by it now and then (measured:
// forward then prefill on one context died 3 of 3 times; with a CPU model in the process as well, 1–6 of 8), one that
// evaluates one kind (measured) never did in 20+ runs. So each check is its own child, run with the driver settings a
// user gets, and a child that dies by a signal is run once or twice more, each retry logged; a crash that repeats
// (ours would) fails the test. A child that exits with an error, or prints a wrong result, is never retried.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The Vulkan build's addon. */
export const VULKAN_ADDON = fileURLToPath(
  new URL(
    `../../native/build-${process.arch === "arm64" ? "armv8" : "x86-64-v3"}-vulkan/Release/vall_e.node`,
    import.meta.url,
  ),
);

export async function runVulkanChild(script, args, options) {
  let last = "";
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      // node itself (not tsx's wrapper), so that a driver's abort reaches us as the child's signal.
      const { stdout } = await run(process.execPath, ["--import", "tsx", script, ...args], {
        cwd: options.cwd,
        env: {
          ...process.env,
          VALL_E_NATIVE_PATH: VULKAN_ADDON,
          GGML_VK_VISIBLE_DEVICES: "0",
        },
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 1 << 20,
      });
      return JSON.parse(stdout);
    } catch (error) {
      last = `${error.message}\n${error.stderr ?? ""}`;
      if (!error.signal || error.killed) break; // an ordinary failure or our timeout: report it
      console.warn(
        `${script} ${args.at(-1)}: the child died by ${error.signal} (attempt ${attempt}); running it again`,
      );
    }
  }
  throw new Error(`the Vulkan child ${script} ${args.join(" ")} failed: ${last}`);
}
