// The GPU-backend agreement tests' child processes: a TypeScript script run by node with tsx's loader, under the
// Vulkan build of the addon (native/build-vulkan) on lavapipe, Mesa's software Vulkan driver (ggml uses a software
// device only when GGML_VK_VISIBLE_DEVICES names it). Each child prints one JSON line.
//
// lavapipe (Mesa 22.3) sometimes corrupts its own heap and aborts (SIGABRT/SIGSEGV in its threads) when one process
// evaluates graphs of different shapes one after another — an LM forward, then a prefill into the KV cache — never
// (measured) when it evaluates one kind. Measured: forward then prefill on one Vulkan context died 3 of 3 times with
// ggml's Vulkan graph reordering on and 0 of 4 with it off (GGML_VK_DISABLE_GRAPH_OPTIMIZE, set here); with a CPU
// model in the same process 1–6 of 8 died even with it off; one kind of graph per process, 0 of 20 (and the 15 LM
// checks of devices.test.ts ran without a retry). So each check is its own child, and a child that dies by a signal
// is run again, at most eight times in all, each retry logged. A child that exits with an error, or prints a wrong result, is never
// retried.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The Vulkan build's addon. */
export const VULKAN_ADDON = fileURLToPath(new URL("../../native/build-vulkan/Release/vall_e.node", import.meta.url));

export async function runVulkanChild(script, args, options) {
  let last = "";
  for (let attempt = 1; attempt <= 8; attempt++) {
    try {
      // node itself (not tsx's wrapper), so that a driver's abort reaches us as the child's signal.
      const { stdout } = await run(process.execPath, ["--import", "tsx", script, ...args], {
        cwd: options.cwd,
        env: {
          ...process.env,
          VALL_E_NATIVE_PATH: VULKAN_ADDON,
          GGML_VK_VISIBLE_DEVICES: "0",
          GGML_VK_DISABLE_GRAPH_OPTIMIZE: "1",
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
