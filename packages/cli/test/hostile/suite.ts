/**
 * One vitest suite per slice of the corpus: the files written once, then every case as its own test (run one after
 * another: each is a process of its own, and the files of a suite run beside the other test files), and the tally
 * written at the end.
 */

import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { accessTimesWork, type CorpusWorld, type HostileCase, newTally, runHostile, writeTally } from "./harness.js";

export function hostileSuite<W extends CorpusWorld>(
  name: string,
  world: W,
  setup: (world: W) => Promise<void>,
  cases: readonly HostileCase[],
  teardown: () => Promise<void> | void = () => {},
): void {
  const tally = newTally();
  describe(`hostile inputs: ${name} (${cases.length} cases)`, () => {
    beforeAll(async () => {
      await setup(world);
      // Reads of the canaries are seen in access times: check that this filesystem keeps them (relatime does).
      expect(
        await accessTimesWork(join(world.outputs, "..", "probe")),
        "this filesystem does not record reads (noatime)",
      ).toBe(true);
    });
    afterAll(async () => {
      await teardown();
      console.log(writeTally(name, tally));
    });
    const ids = new Set<string>();
    for (const hostile of cases) {
      if (ids.has(hostile.id)) throw new Error(`two cases are named ${hostile.id}`);
      ids.add(hostile.id);
      it(hostile.id, async () => {
        expect(await runHostile(world, hostile, tally)).toEqual([]);
      });
    }
  });
}
