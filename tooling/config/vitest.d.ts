import type { UserConfig } from "vitest/config";

export interface PackageTestOptions {
  testTimeout?: number;
}

/** The repo's Vitest preset: test file locations, the forks pool, and the JSON report .ci/run adds up. */
export declare function packageTestConfig(options?: PackageTestOptions): UserConfig;
