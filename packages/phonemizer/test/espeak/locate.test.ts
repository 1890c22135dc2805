import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@tooling/config/temp-dir";
import { describe, expect, it } from "vitest";
import { locateEspeakNg } from "../../src/espeak/locate.js";

describe("locateEspeakNg", () => {
  it("finds the installed library and data (./setup.sh installs them)", () => {
    const found = locateEspeakNg({});
    expect(found.problem).toBeUndefined();
    expect(found.available).toBe(true);
    expect(found.library).toMatch(/libespeak-ng/);
    expect(found.dataDir).toMatch(/espeak-ng-data$/);
  });

  it("honours ESPEAK_DATA_PATH", () => {
    const root = tempDir("espeak-");
    mkdirSync(join(root, "espeak-ng-data"));
    writeFileSync(join(root, "espeak-ng-data", "phontab"), "");
    expect(locateEspeakNg({ ESPEAK_DATA_PATH: root }).dataDir).toBe(join(root, "espeak-ng-data"));
  });
});
