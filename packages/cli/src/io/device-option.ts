/** `--device`: where the models run, on every command that loads them (Engine.load's `device`). */
import { type Command, InvalidArgumentError, Option } from "commander";

const SPEC = /^\s*(auto|cpu|(vulkan|cuda|metal)(:\d+)?)\s*$/i;

export const DEVICE_HELP =
  "where the LM, the codec and Vocos run: auto (a real GPU when this build has one, else the CPU; never a software driver), cpu, vulkan[:N], cuda[:N] (default: auto; `vall-e doctor` lists the devices)";

export function deviceOption(): Option {
  return new Option("--device <device>", DEVICE_HELP).argParser((value) => {
    if (!SPEC.test(value)) throw new InvalidArgumentError("expected auto, cpu, vulkan[:N], cuda[:N] or metal[:N]");
    return value;
  });
}

/**
 * Before a command that took --device runs: the device must exist in this build (ERR_DEVICE, exit 2, naming what it
 * has), checked before any input is read or model resolved — let alone downloaded.
 */
export async function checkDeviceOption(command: Command): Promise<void> {
  const device = command.opts<{ device?: unknown }>().device;
  if (typeof device !== "string") return;
  const { resolveDevice } = await import("@vall-e/native");
  resolveDevice(device);
}

/** The Engine.load / LanguageModel.load / Codec.load option for a parsed --device ("auto" when it was not given). */
export function deviceLoadOption(device: unknown): { device: string } {
  return { device: typeof device === "string" ? device : "auto" };
}
