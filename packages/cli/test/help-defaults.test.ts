import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { RAS_RATIO_SETTING, REQUEST_SETTINGS, SAMPLING_SETTINGS, type Setting } from "@vall-e/core";
import { describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../bin/vall-e.js", import.meta.url));

/** Each option of a command's --help with the default it shows: [flag, default as printed]. */
function helpDefaults(command: string): [string, string][] {
  const help = spawnSync(process.execPath, [bin, command, "--help"], { encoding: "utf8" }).stdout;
  const options: string[] = [];
  for (const line of help.split("\n")) {
    if (/^ {2}-/.test(line)) options.push(line.trim());
    else if (/^ {4,}\S/.test(line) && options.length > 0) options[options.length - 1] += ` ${line.trim()}`;
  }
  return options.flatMap((option) => {
    const flag = /--([a-z-]+)/.exec(option)?.[1] as string;
    const shown = /default: ("[^"]*"|[^,)]+)/.exec(option)?.[1];
    return shown === undefined ? [] : [[flag, shown.replace(/^"|"$/g, "")] as [string, string]];
  });
}

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const settings: Record<string, Setting<unknown>> = {
  ...SAMPLING_SETTINGS,
  ...REQUEST_SETTINGS,
  lang: REQUEST_SETTINGS.language,
  rasRatio: RAS_RATIO_SETTING,
};

describe("--help shows the defaults of the one table (@vall-e/core)", () => {
  for (const command of ["tts", "generate"]) {
    it(`vall-e ${command}`, () => {
      const shown = helpDefaults(command);
      const compared = shown.filter(([flag]) => settings[camel(flag)] !== undefined);
      // Every generation flag with a default: the sampler flags, the limits, the choices.
      expect(compared.length).toBeGreaterThanOrEqual(command === "tts" ? 29 : 26);
      for (const [flag, value] of compared) {
        expect([flag, value]).toEqual([flag, String((settings[camel(flag)] as Setting<unknown>).value)]);
      }
      expect(shown.map(([flag]) => flag)).toEqual(expect.arrayContaining(["max-duration", "top-p", "cfg-rescale"]));
    });
  }
});
