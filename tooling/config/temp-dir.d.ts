/**
 * A new temporary directory (under the test run's sandbox), removed by the test runner: after the current test when
 * called inside one, after the file's tests when called at module or describe level. `scope: "run"`: kept until
 * the run's sandbox is removed (for caches shared by the tests of a process).
 */
export declare function tempDir(prefix?: string, options?: { scope?: "test" | "run" }): string;
