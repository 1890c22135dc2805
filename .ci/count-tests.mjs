// Adds up the Vitest JSON reports (test-results/vitest.json) of every workspace package that has a test script,
// prints "N passed, M failed[, K skipped]" as the last line, and exits non-zero on any failure.
//   node .ci/count-tests.mjs <exit status of the test command>
// Skips: only the suites that need the external reference data (shared/fixtures beside the checkout) may skip, and
// only when that data is absent; any other skipped test fails the run.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const commandStatus = Number(process.argv[2] ?? 1);
const packageDirs = [
  "native",
  ...["packages", "tooling"].flatMap((group) =>
    existsSync(group) ? readdirSync(group).map((name) => join(group, name)) : [],
  ),
].filter((dir) => existsSync(join(dir, "package.json")));

// Test files whose tests need ../shared/fixtures (reference data made outside this repository).
const FIXTURE_SUITES = [
  "packages/codec/test/artifacts.test.ts",
  "packages/codec/test/golden.test.ts",
  "packages/phonemizer/test/phonemize.test.ts",
  "packages/phonemizer/test/tokenizer/phoneme-tokenizer.test.ts",
  "packages/lm/test/fixtures.test.ts",
  "packages/lm/test/stt.test.ts",
  "packages/lm/test/devices.test.ts",
  "packages/codec/test/devices.test.ts",
  "packages/cli/test/cli.test.ts",
];
const sharedPresent = existsSync(join(process.env.VALL_E_SHARED_DIR ?? join("..", "shared"), "fixtures"));

let forbiddenSkips = 0;
let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];

for (const dir of packageDirs) {
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (!manifest.scripts?.test) continue;
  const reportPath = join(dir, "test-results", "vitest.json");
  if (!existsSync(reportPath)) {
    problems.push(`${manifest.name}: no test report (${reportPath}); its tests did not run`);
    failed++;
    continue;
  }
  const report = JSON.parse(readFileSync(reportPath, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  for (const file of report.testResults ?? []) {
    const relative = file.name.slice(file.name.indexOf(`${dir}/`));
    for (const test of file.assertionResults ?? []) {
      if (test.status !== "skipped" && test.status !== "pending" && test.status !== "todo") continue;
      if (sharedPresent || !FIXTURE_SUITES.includes(relative)) {
        problems.push(
          `${relative}: "${test.fullName}" was skipped${sharedPresent ? " with the reference data present" : ""}`,
        );
        forbiddenSkips++;
      }
    }
  }
  // A test file that fails to load has no failed test in it but fails the run: count it once.
  for (const file of report.testResults ?? []) {
    const failedInside = (file.assertionResults ?? []).some((test) => test.status === "failed");
    if (file.status === "failed" && !failedInside) {
      problems.push(`${manifest.name}: ${file.name} failed to run: ${(file.message ?? "").split("\n")[0]}`);
      failed++;
    }
  }
}

if (commandStatus !== 0) problems.push(`the test command exited with status ${commandStatus}`);
if (passed === 0) problems.push("no test passed");
for (const problem of problems) process.stderr.write(`[ci] ${problem}\n`);
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(commandStatus !== 0 || failed > 0 || forbiddenSkips > 0 || passed === 0 ? 1 : 0);
