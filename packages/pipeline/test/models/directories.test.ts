import { describe, expect, it } from "vitest";
import { modelDirectories } from "../../src/models/directories.js";

describe("modelDirectories", () => {
  it("uses $XDG_CACHE_HOME/vall-e, else ~/.cache/vall-e", () => {
    expect(modelDirectories({ XDG_CACHE_HOME: "/x/cache", HOME: "/home/u" }).cacheDir).toBe("/x/cache/vall-e");
    expect(modelDirectories({ HOME: "/home/u" }).cacheDir).toBe("/home/u/.cache/vall-e");
    // A relative XDG_CACHE_HOME is invalid per the XDG spec and ignored.
    expect(modelDirectories({ XDG_CACHE_HOME: "rel", HOME: "/home/u" }).cacheDir).toBe("/home/u/.cache/vall-e");
  });

  it("resolves VALL_E_MODEL_DIR when set", () => {
    expect(modelDirectories({ VALL_E_MODEL_DIR: "/models", HOME: "/h" }).modelDir).toBe("/models");
    expect(modelDirectories({ HOME: "/h" }).modelDir).toBeUndefined();
  });
});
